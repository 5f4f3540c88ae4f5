import type { Caller } from './claims.ts';
import type { RequestClaims } from './claims.ts';
import type { PrismaClient } from '../db/prisma.ts';
import { createRequestClient } from './request-client.ts';
import { RequestTransaction, type RequestTransactionOptions } from './request-transaction.ts';
import { createLoaders, type Loaders } from './loaders/index.ts';
import type { RequestScope } from '../observability/request-scope.ts';
import type { AiProvider } from '../ai/provider.ts';

/** What every resolver of one GraphQL operation sees. */
export interface GatewayContext {
  caller: Caller;
  claims: RequestClaims;
  /** The operation's transaction, opened on first use. */
  transaction: RequestTransaction;
  /** Prisma bound to that transaction, with lookups by id batched. */
  prisma: PrismaClient;
  loaders: Loaders;
  /** The request's log and metrics record; absent outside HTTP (schema printing, tests of resolvers). */
  scope?: RequestScope;
  /** Embeds search queries; absent, only KEYWORD search works. */
  ai?: AiProvider;
}

export function createContext(
  prisma: PrismaClient,
  caller: Caller,
  { scope, ai, ...options }: RequestTransactionOptions & { scope?: RequestScope; ai?: AiProvider } = {},
): GatewayContext {
  const transaction = new RequestTransaction(prisma, caller.claims, options);
  const loaders = createLoaders(transaction);
  return {
    caller,
    claims: caller.claims,
    transaction,
    prisma: createRequestClient(transaction, loaders.findUnique),
    loaders,
    scope,
    ai,
  };
}
