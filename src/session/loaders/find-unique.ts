import DataLoader from 'dataloader';
import { DomainError } from '../../errors.ts';
import type { TransactionClient } from '../request-transaction.ts';

type Shape = { select?: Record<string, unknown>; include?: Record<string, unknown> };
type Delegate = { findMany(args: unknown): Promise<{ id: string }[]> };


/**
 * Batches `findUnique({ where: { id } })` calls per model and selection into one
 * `findMany({ where: { id: { in } } })`. Prisma batches these itself, but not inside an
 * interactive transaction, which is where every request runs.
 */
export function createFindUniqueLoader(client: () => Promise<TransactionClient>) {
  const loaders = new Map<string, DataLoader<string, unknown>>();

  function loaderFor(model: string, shape: Shape): DataLoader<string, unknown> {
    const key = `${model}:${JSON.stringify(shape)}`;
    let loader = loaders.get(key);
    if (!loader) {
      // The id is needed to put rows back in key order, whatever the caller selected.
      const query = shape.select ? { select: { ...shape.select, id: true } } : shape;
      loader = new DataLoader(async (ids: readonly string[]) => {
        const delegate = (await client())[model as keyof TransactionClient] as unknown as Delegate;
        const rows = await delegate.findMany({ where: { id: { in: [...ids] } }, ...query });
        const byId = new Map(rows.map((row) => [row.id, row]));
        return ids.map((id) => byId.get(id) ?? null);
      });
      loaders.set(key, loader);
    }
    return loader;
  }

  return async (model: string, id: string, shape: Shape, orThrow: boolean): Promise<unknown> => {
    const row = await loaderFor(model, shape).load(id);
    if (row === null && orThrow) throw new DomainError('NOT_FOUND', 'no such record is visible to you');
    return row;
  };
}

export type FindUniqueLoader = ReturnType<typeof createFindUniqueLoader>;

/** The `where` of a lookup by primary key alone, the only shape worth batching. */
export function idLookup(args: unknown): { id: string; shape: Shape } | undefined {
  if (typeof args !== 'object' || args === null) return undefined;
  const { where, ...shape } = args as { where?: Record<string, unknown> } & Shape;
  if (!where || Object.keys(where).length !== 1 || typeof where.id !== 'string') return undefined;
  if (Object.keys(shape).some((key) => key !== 'select' && key !== 'include')) return undefined;
  return { id: where.id, shape };
}
