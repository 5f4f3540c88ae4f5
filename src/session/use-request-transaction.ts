import { getOperationAST, Kind, type OperationDefinitionNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GatewayContext } from './context.ts';
import { type ErrorCode, isDatabaseUnavailable, refuse } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';

/**
 * One transaction per operation: read-only unless it is a mutation, committed when execution
 * ends. Failed mutations have already rolled back to their savepoints (or, when the operation
 * is one mutation, the transaction rolls back whole), so what remains is exactly what
 * succeeded. A commit that fails turns the whole result into an error.
 */
export function useRequestTransaction(logger: Logger): Plugin<GatewayContext> {
  return {
    onExecute({ args }) {
      const ctx = args.contextValue;
      const operation = getOperationAST(args.document, args.operationName);
      ctx.transaction.setReadOnly(operation?.operation !== 'mutation');
      if (isSoleMutation(operation)) ctx.transaction.setSoleMutation();
      return {
        async onExecuteDone({ setResult }) {
          try {
            await ctx.transaction.finish('commit');
          } catch (error) {
            const unavailable = isDatabaseUnavailable(error);
            if (unavailable) logger.warn({ err: error }, 'commit failed: database unavailable');
            else logger.error({ err: error }, 'commit failed');
            const message = 'the operation could not be committed; nothing was saved';
            const code: ErrorCode = unavailable ? 'DATABASE_UNAVAILABLE' : 'INTERNAL';
            setResult({ errors: [refuse(unavailable ? 503 : 500, code, message)] });
          }
        },
      };
    },
    // A subscription never holds a transaction open: subscribing authorises through the
    // database on its own, and each event's fields resolve in a short read-only transaction
    // (GatewayContext.startOver, after each event: src/realtime/shared-results.ts).
    onSubscribe({ args }) {
      const ctx = args.contextValue;
      ctx.transaction.setReadOnly(true);
      return {
        onSubscribeResult({ result }) {
          if (!isAsyncIterable(result)) return void ctx.transaction.finish('commit').catch(() => undefined);
          return { onEnd: () => void ctx.transaction.finish('rollback').catch(() => undefined) };
        },
      };
    },
  };
}

const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  typeof value === 'object' && value !== null && Symbol.asyncIterator in value;

/** A mutation operation selecting exactly one field, unconditionally (no fragment, no directive). */
function isSoleMutation(operation: OperationDefinitionNode | null | undefined): boolean {
  if (operation?.operation !== 'mutation') return false;
  const [only, ...others] = operation.selectionSet.selections;
  return others.length === 0 && only?.kind === Kind.FIELD && !only.directives?.length;
}
