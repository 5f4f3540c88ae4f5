import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../src/realtime/event-queue.ts';

describe('the event queue of a subscription', () => {
  it('hands events over in order, waiting for them when there are none', async () => {
    const queue = new EventQueue<number>({ limit: 10, overflow: () => -1, onClose: () => undefined });
    const first = queue.next();
    queue.push(1);
    queue.push(2);
    expect(await first).toEqual({ value: 1, done: false });
    expect(await queue.next()).toEqual({ value: 2, done: false });
  });

  it('ends a client that falls too far behind with the overflow event, and holds no more than the limit', async () => {
    let closed = 0;
    const queue = new EventQueue<number>({ limit: 3, overflow: () => -1, onClose: () => closed++ });
    for (let i = 0; i < 100; i++) queue.push(i);
    expect(queue.size).toBe(1);
    expect(await queue.next()).toEqual({ value: -1, done: false });
    expect(await queue.next()).toEqual({ value: undefined, done: true });
    expect(closed).toBe(1);
  });

  it('closes once when the client leaves, dropping what waits, and when it ends', async () => {
    let closed = 0;
    const queue = new EventQueue<number>({ limit: 3, overflow: () => -1, onClose: () => closed++ });
    const waiting = queue.next();
    queue.end();
    expect(await waiting).toEqual({ value: undefined, done: true });
    await queue.return();
    queue.push(5);
    expect(queue.size).toBe(0);
    expect(closed).toBe(1);
  });

  it('offers an event to take() only while the consumer waits with nothing before it, and keeps what take() declines', async () => {
    const queue = new EventQueue<number>({ limit: 10, overflow: () => -1, onClose: () => undefined });
    const offered: number[] = [];
    queue.take = (value) => (offered.push(value), value % 2 === 0);
    // Not waiting: buffered, never offered.
    queue.push(1);
    expect(offered).toEqual([]);
    expect(await queue.next()).toEqual({ value: 1, done: false });
    // Waiting: taken (even) events do not reach next(); a declined (odd) one does, in order.
    const waiting = queue.next();
    queue.push(2);
    queue.push(4);
    queue.push(3);
    queue.push(6);
    expect(offered).toEqual([2, 4, 3]);
    expect(await waiting).toEqual({ value: 3, done: false });
    // 6 arrived while 3 was in the consumer's hands: buffered behind it, not offered.
    expect(queue.size).toBe(1);
    expect(await queue.next()).toEqual({ value: 6, done: false });
  });
});
