import { getOperationAST, GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GatewayContext } from '../../context.ts';

/**
 * One transaction per operation: read-only unless it is a mutation, committed when execution
 * ends. Failed mutations have already rolled back to their savepoints, so what remains is
 * exactly what succeeded. A commit that fails turns the whole result into an error.
 */
export function useRequestTransaction(): Plugin<GatewayContext> {
  return {
    onExecute({ args }) {
      const ctx = args.contextValue;
      const operation = getOperationAST(args.document, args.operationName)?.operation;
      ctx.transaction.setReadOnly(operation !== 'mutation');
      return {
        async onExecuteDone({ setResult }) {
          try {
            await ctx.transaction.finish('commit');
          } catch (error) {
            console.error('commit failed', error);
            const message = 'the operation could not be committed; nothing was saved';
            setResult({ errors: [new GraphQLError(message, { extensions: { code: 'INTERNAL' } })] });
          }
        },
      };
    },
  };
}
