import { createSourceEventStream, type DocumentNode, execute, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GatewayContext } from '../session/context.ts';
import { EventQueue } from './event-queue.ts';

// Each event of a subscription is executed here, then its transaction (if it opened one) ended.
// One change reaches every subscriber of its tenant as the same event object. Subscribers that
// sent the same operation (the same document, operation name and variables: what one client
// app sends from every browser) then get the same result for it, so it is executed once per
// change rather than once per subscriber, and what each subscriber costs is sending it.
//
// A result is shared only when executing it touched nothing of the subscriber's: no statement
// ran as them (their transaction never opened: no relation read, no role looked up). Whatever
// the schema resolves from the event alone is the same for every subscriber of the tenant, as
// the event was read once for all of them (src/realtime/hub.ts). When execution did read as the
// subscriber, that operation is executed per subscriber from then on.

interface Outcome {
  result: ExecutionResult;
  /** Nothing of the executing subscriber's own was read to produce it. */
  shareable: boolean;
  /** The subscriber it was executed for: theirs in any case. */
  executedFor: unknown;
}

/**
 * Per event, each operation executed for it: while it executes, the promise of its outcome; then
 * the outcome itself, so that the event's other subscribers (a hundred per change is usual) take
 * it at once.
 */
const outcomes = new WeakMap<object, Map<string, Promise<Outcome> | Outcome>>();
/** Operations found to read as their subscriber, by document: never shared again. */
const perSubscriber = new WeakMap<DocumentNode, Set<string>>();
/** A stable key per parsed document (yoga's parse cache hands the same query text the same document). */
const documentKeys = new WeakMap<DocumentNode, number>();
let nextDocumentKey = 0;

function operationKey(args: ExecutionArgs): string {
  let key = documentKeys.get(args.document);
  if (key === undefined) documentKeys.set(args.document, (key = nextDocumentKey++));
  return `${key}\u0000${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}`;
}

const executeOwn = (args: ExecutionArgs, event: unknown) => execute({ ...args, rootValue: event });

/**
 * The event's outcome for this operation: the one already known, else executed now as this
 * subscriber (synchronously when nothing it resolves waits on anything). Undefined when the
 * operation is not shared.
 */
function outcomeOf(args: ExecutionArgs, key: string, event: unknown): Outcome | Promise<Outcome> | undefined {
  if (typeof event !== 'object' || event === null || perSubscriber.get(args.document)?.has(key)) return undefined;
  let byOperation = outcomes.get(event);
  if (!byOperation) outcomes.set(event, (byOperation = new Map()));
  const known = byOperation.get(key);
  if (known !== undefined) return known;
  const ctx = args.contextValue as GatewayContext;
  const settle = (result: ExecutionResult): Outcome => {
    const outcome = { result, shareable: !ctx.transaction.used, executedFor: ctx };
    if (outcome.shareable) {
      byOperation.set(key, outcome);
    } else {
      let keys = perSubscriber.get(args.document);
      if (!keys) perSubscriber.set(args.document, (keys = new Set()));
      keys.add(key);
      byOperation.delete(key);
    }
    return outcome;
  };
  const executed = executeOwn(args, event);
  if (!(executed instanceof Promise)) return settle(executed);
  const pending = executed.then(settle);
  byOperation.set(key, pending);
  return pending;
}

/** The outcome's result for this subscriber: executed as another one with reads of their own, theirs is its own. */
function resultOf(outcome: Outcome, args: ExecutionArgs, event: unknown): ExecutionResult | Promise<ExecutionResult> {
  return outcome.shareable || outcome.executedFor === args.contextValue ? outcome.result : executeOwn(args, event);
}

/** The event's result for this subscriber: the shared one when there is one, else its own. */
function resultFor(args: ExecutionArgs, key: string, event: unknown): ExecutionResult | Promise<ExecutionResult> {
  const outcome = outcomeOf(args, key, event);
  if (outcome === undefined) return executeOwn(args, event);
  if (outcome instanceof Promise) return outcome.then((known) => resultOf(known, args, event));
  return resultOf(outcome, args, event);
}

/**
 * The source's events as results. An iterator rather than a generator: a client that leaves
 * before the first event must still reach the source's return(), which ends the subscription.
 *
 * A result that read nothing as the subscriber and carries no error goes straight onto the
 * subscriber's connection when its transport offers that (ctx.sendResult), and the iterator
 * waits on for the next event: the layers between here and the transport (envelop's hooks,
 * graphql-ws's loop) have nothing to do for it (error masking is their only work per result),
 * and at a hundred subscribers per change they are most of a delivery's cost. While the
 * iterator waits, the subscriber's queue offers it each event as it is pushed (EventQueue.take):
 * one whose result is known then is sent within the hub's delivery loop, with no promise at all.
 * Order holds: an event is taken from the source only once the previous one has been sent, by
 * whichever path.
 */
function mapEvents(stream: AsyncIterable<unknown>, args: ExecutionArgs, key: string): AsyncIterableIterator<ExecutionResult> {
  const source = stream[Symbol.asyncIterator]();
  const ctx = args.contextValue as GatewayContext;
  const done = { value: undefined, done: true } as const;
  const send = ctx.sendResult;
  if (send && stream instanceof EventQueue) {
    stream.take = (event) => {
      if (ctx.transaction.used) return false;
      const outcome = outcomeOf(args, key, event);
      if (outcome === undefined || outcome instanceof Promise || !outcome.shareable || outcome.result.errors) return false;
      send(outcome.result);
      return true;
    };
  }
  return {
    async next(): Promise<IteratorResult<ExecutionResult>> {
      for (;;) {
        const step = await source.next();
        if (step.done) return done;
        const pending = resultFor(args, key, step.value);
        const value = pending instanceof Promise ? await pending : pending;
        if (send && !value.errors && !ctx.transaction.used) {
          send(value);
          continue;
        }
        // Whatever this event read as the subscriber is committed before the next event.
        await ctx.startOver();
        return { value, done: false };
      }
    },
    return: async () => (await source.return?.(), done),
    throw: async (error: unknown) => (await source.return?.(), Promise.reject(error)),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** Subscriptions execute each event once per operation, not once per subscriber, where that is sound. */
export function useSharedEventResults(): Plugin<GatewayContext> {
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(async (args) => {
        const stream = await createSourceEventStream(args);
        if (!(Symbol.asyncIterator in stream)) return stream;
        return mapEvents(stream, args, operationKey(args));
      });
    },
  };
}
