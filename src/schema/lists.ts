import type { EnumRef, InputRef } from '@pothos/core';
import type { GatewayContext } from '../session/context.ts';
import { builder } from './builder.ts';
import { PAGE, SortDirectionEnum } from './filters.ts';
import { registerPlannedList } from './plan/registry.ts';

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;

export type Sort = 'asc' | 'desc';

/** What a list needs of a model's Prisma delegate (reached through the request client). */
interface ListDelegate {
  findMany(args: object): Promise<unknown[]>;
  count(args: { where: object }): Promise<number>;
}

export interface ListSpec<Filter, Order extends string> {
  /** The Query field. */
  field: string;
  /** The Prisma model the connection pages over; every model it is used for has `id` as its key. */
  model: string;
  description: string;
  filter: InputRef<Filter>;
  /**
   * Prisma's where clause for a filter. The policies already limit the rows; a where may name the
   * caller's tenant or user as well, so an index serves the query (hence the context).
   */
  where: (filter: Filter | null | undefined, ctx: GatewayContext) => object | Promise<object>;
  order: {
    field: EnumRef<Types, Order>;
    defaultValue: Order;
    /** Prisma's orderBy for a field and direction; the id is added after it to break ties. */
    by: (field: Order, sort: Sort) => object;
  };
  /** For tables anon holds no grant on: refuse in words rather than with a masked 42501. */
  signedIn?: boolean;
}

/** The Prisma client's property for a model: ContractAnalysis -> contractAnalysis. */
export const delegateName = (model: string) => model.charAt(0).toLowerCase() + model.slice(1);

/** orderBy for models whose order fields are plain columns. */
export const byColumn =
  <Order extends string>(columns: Readonly<Record<Order, string>>) =>
  (field: Order, sort: Sort) => ({ [columns[field]]: sort });

/**
 * Every list of the active tenant's rows, core domains and business solutions alike: a
 * connection (page limits included) with `filter`, `orderBy` and `direction`, the id breaking
 * ties so cursors stay stable, and a totalCount under the same filter.
 */
export function tenantList<Filter, Order extends string>(spec: ListSpec<Filter, Order>): void {
  const ordering = (field: Order, direction: 'ASC' | 'DESC') => [
    spec.order.by(field, direction === 'ASC' ? 'asc' : 'desc'),
    { id: 'asc' },
  ];
  registerPlannedList(spec.field, {
    model: spec.model,
    where: spec.where as (filter: unknown, ctx: GatewayContext) => object,
    orderBy: ordering as (field: string, direction: 'ASC' | 'DESC') => Record<string, unknown>[],
    ...PAGE,
    signedIn: spec.signedIn ?? false,
  });
  const rows = (ctx: GatewayContext) => (ctx.prisma as unknown as Record<string, ListDelegate>)[delegateName(spec.model)]!;
  builder.queryField(spec.field, (t) =>
    t.prismaConnection({
      type: spec.model as never,
      cursor: 'id' as never,
      ...PAGE,
      description: spec.description,
      ...(spec.signedIn ? { authScopes: { signedIn: true } } : {}),
      args: {
        filter: t.arg({ type: spec.filter, required: false }),
        orderBy: t.arg({ type: spec.order.field, required: true, defaultValue: spec.order.defaultValue as never }),
        direction: t.arg({ type: SortDirectionEnum, required: true, defaultValue: 'DESC' }),
      },
      resolve: async (query: object, _root: unknown, args: Record<string, unknown>, ctx: GatewayContext) => {
        const { filter, orderBy, direction } = args as { filter?: Filter | null; orderBy: Order; direction: 'ASC' | 'DESC' };
        return rows(ctx).findMany({
          ...query,
          where: await spec.where(filter, ctx),
          orderBy: ordering(orderBy, direction),
        }) as never;
      },
      totalCount: async (_connection: unknown, args: Record<string, unknown>, ctx: GatewayContext) =>
        rows(ctx).count({ where: await spec.where((args as { filter?: Filter | null }).filter, ctx) }),
    } as never),
  );
}
