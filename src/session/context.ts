import type { ExecutionResult } from 'graphql';
import type { Caller } from './claims.ts';
import type { RequestClaims } from './claims.ts';
import type { PrismaClient } from '../db/prisma.ts';
import { createRequestClient } from './request-client.ts';
import { RequestTransaction, type RequestTransactionOptions } from './request-transaction.ts';
import { createLoaders, type Loaders } from './loaders/index.ts';
import type { RequestScope } from '../observability/request-scope.ts';
import type { AiProvider } from '../ai/provider.ts';
import type { RealtimeHub } from '../realtime/hub.ts';

/** What every resolver of one GraphQL operation sees. */
export interface GatewayContext {
  caller: Caller;
  claims: RequestClaims;
  /** The operation's transaction, opened on first use. */
  transaction: RequestTransaction;
  /** Prisma bound to that transaction, with lookups by id batched. */
  prisma: PrismaClient;
  loaders: Loaders;
  /**
   * Ends the transaction (committing what it read) and gives the context a new one, with new
   * loaders: each event of a subscription is resolved in a short transaction of its own, never
   * one held open for the subscription's lifetime.
   */
  startOver(): Promise<void> | undefined;
  /** The request's log and metrics record; absent outside HTTP (schema printing, tests of resolvers). */
  scope?: RequestScope;
  /** Embeds search queries; absent, only KEYWORD search works. */
  ai?: AiProvider;
  /** Realtime subscribers of this process; absent, subscriptions are refused. */
  realtime?: RealtimeHub;
  /**
   * Set by a transport that can take a subscription's error-free results straight onto its
   * connection (GraphQL over WebSocket), as its next message for this operation: then a result
   * shared with the event's other subscribers is sent without the per-message iterator chain
   * (src/realtime/shared-results.ts). Absent, every result goes through that chain.
   */
  sendResult?: (result: ExecutionResult) => void;
}

export function createContext(
  prisma: PrismaClient,
  caller: Caller,
  { scope, ai, realtime, ...options }: RequestTransactionOptions & { scope?: RequestScope; ai?: AiProvider; realtime?: RealtimeHub } = {},
): GatewayContext {
  const session = () => {
    const transaction = new RequestTransaction(prisma, caller.claims, options);
    const loaders = createLoaders(transaction);
    return { transaction, loaders, prisma: createRequestClient(transaction, loaders.findUnique) };
  };
  const context: GatewayContext = {
    caller,
    claims: caller.claims,
    ...session(),
    startOver() {
      // Nothing ran as the caller: the transaction and loaders are as good as new (and, called
      // for every event of every subscriber, this returns at once, with no promise to wait on).
      if (!context.transaction.used) return undefined;
      return context.transaction.finish('commit').then(() => {
        Object.assign(context, session());
        context.transaction.setReadOnly(true);
      });
    },
    scope,
    ai,
    realtime,
  };
  return context;
}
