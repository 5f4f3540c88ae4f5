import { type FindUniqueLoader, idLookup } from './loaders/find-unique.ts';
import type { PrismaClient } from '../db/prisma.ts';
import type { RequestTransaction, TransactionClient } from './request-transaction.ts';

const BATCHED = new Set(['findUnique', 'findUniqueOrThrow']);
type Method = (...args: unknown[]) => unknown;

/**
 * Pothos asks for `select: {}` when a client selects only `__typename`; Prisma refuses an
 * empty select, so ask for the id instead.
 */
function withNonEmptySelect(args: unknown[]): unknown[] {
  const [first, ...rest] = args;
  if (typeof first !== 'object' || first === null) return args;
  const select = (first as { select?: object }).select;
  if (!select || Object.keys(select).length > 0) return args;
  return [{ ...first, select: { id: true } }, ...rest];
}

function callDelegate(tx: TransactionClient, model: string, method: string, args: unknown[]): unknown {
  const delegate = tx[model as keyof TransactionClient] as unknown as Record<string, Method>;
  return delegate[method]!(...withNonEmptySelect(args));
}

/** The request's transaction client with the same empty-select guard, for mutations. */
export function guardTransactionClient(tx: TransactionClient): TransactionClient {
  return new Proxy(tx, {
    get(target, property: string | symbol) {
      const value = Reflect.get(target, property) as unknown;
      if (typeof property !== 'string' || property.startsWith('$') || typeof value !== 'object' || value === null) {
        return value;
      }
      return new Proxy(value, {
        get: (_delegate, method: string) => (...args: unknown[]) => callDelegate(target, property, method, args),
      });
    },
  });
}

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
            const lookup = BATCHED.has(method) ? idLookup(withNonEmptySelect(args)[0]) : undefined;
            if (lookup) return findUnique(model, lookup.id, lookup.shape, method === 'findUniqueOrThrow');
            return transaction.get().then((tx) => callDelegate(tx, model, method, args));
          },
      },
    );

  return new Proxy({} as PrismaClient, {
    // Pothos finds a model's delegate with the `in` operator.
    has: (_target, property) => typeof property === 'string' && property !== 'then',
    get(_target, property: string | symbol) {
      // Not a thenable: `await client` must not try to call a `then` delegate.
      if (typeof property !== 'string' || property === 'then') return undefined;
      if (property.startsWith('$')) {
        return (...args: unknown[]) =>
          transaction.get().then((tx) => (tx as unknown as Record<string, Method>)[property]!(...args));
      }
      let model = delegates.get(property);
      if (!model) delegates.set(property, (model = delegate(property)));
      return model;
    },
  });
}
