/**
 * The events of one subscription, waiting for its client to take them: an async iterator fed by
 * push(). It holds at most `limit` events; a client that falls that far behind is ended with
 * `overflow()`'s value as its last event rather than let the gateway's memory grow, or events
 * be silently dropped. Returning (the client left) or ending runs `onClose` once.
 */
export class EventQueue<T> implements AsyncIterableIterator<T> {
  private readonly buffer: T[] = [];
  private waiting?: (result: IteratorResult<T>) => void;
  private ended = false;
  private closed = false;
  /**
   * Offered each event while the consumer is idle in next() (nothing buffered, nothing in
   * hand): taking it there and then (true) spares the consumer a turn of the promise queue.
   */
  take?: (value: T) => boolean;

  constructor(
    private readonly options: { limit: number; overflow: () => T; onClose: () => void },
  ) {}

  push(value: T): void {
    if (this.ended) return;
    if (this.waiting) {
      if (this.take?.(value)) return;
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value, done: false });
      return;
    }
    if (this.buffer.length >= this.options.limit) {
      this.buffer.length = 0;
      this.buffer.push(this.options.overflow());
      this.end();
      return;
    }
    this.buffer.push(value);
  }

  /** No more events: the client takes what is buffered, then the iterator is done. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.close();
    if (this.waiting && this.buffer.length === 0) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: undefined, done: true });
    }
  }

  get size(): number {
    return this.buffer.length;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.buffer.length > 0) return Promise.resolve({ value: this.buffer.shift()!, done: false });
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<T>> {
    this.buffer.length = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.options.onClose();
  }
}
