import { type FindUniqueLoader, idLookup } from '../loaders/find-unique.ts';
import type { PrismaClient } from './prisma.ts';
import type { RequestTransaction } from './request-transaction.ts';

const BATCHED = new Set(['findUnique', 'findUniqueOrThrow']);

/**
 * A Prisma client for one request that opens the request's transaction on first use and
 * sends every call through it, batching lookups by id through a DataLoader. It is handed to
 * Pothos, which needs a client synchronously, before anything is known to touch the database.
 */
export function createRequestClient(transaction: RequestTransaction, findUnique: FindUniqueLoader): PrismaClient {
  const delegates = new Map<string, object>();

  const delegate = (model: string) =>
    new Proxy(
      {},
      {
        get: (_target, method: string) =>
          (...args: unknown[]) => {
            const lookup = BATCHED.has(method) ? idLookup(args[0]) : undefined;
            if (lookup) return findUnique(model, lookup.id, lookup.shape, method === 'findUniqueOrThrow');
            return transaction.get().then((tx) => {
              const target = tx[model as keyof typeof tx] as unknown as Record<string, (...a: unknown[]) => unknown>;
              return target[method]!(...args);
            });
          },
      },
    );

  return new Proxy({} as PrismaClient, {
    get(_target, property: string | symbol) {
      // Not a thenable: `await client` must not try to call a `then` delegate.
      if (typeof property !== 'string' || property === 'then') return undefined;
      if (property.startsWith('$')) {
        return (...args: unknown[]) =>
          transaction.get().then((tx) => (tx as unknown as Record<string, (...a: unknown[]) => unknown>)[property]!(...args));
      }
      let model = delegates.get(property);
      if (!model) delegates.set(property, (model = delegate(property)));
      return model;
    },
  });
}
