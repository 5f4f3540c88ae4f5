import type { ArgBuilder, InputObjectRef } from '@pothos/core';
import { z } from 'zod';
import type { GatewayContext } from '../../context.ts';
import type { TransactionClient } from '../../db/request-transaction.ts';
import { DomainError } from '../../errors.ts';
import { Prisma } from '../../generated/prisma/client.ts';
import { builder } from '../builder.ts';
import { dateRange, SortDirectionEnum } from '../filters.ts';
import { requireChanges, requireTenantId, requireUserId, runMutation } from '../mutation.ts';

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;

export const BusinessSolutionOrderFieldEnum = builder.enumType('BusinessSolutionOrderField', {
  values: ['CREATED_AT', 'UPDATED_AT'] as const,
});
const ORDER_COLUMN = { CREATED_AT: 'createdAt', UPDATED_AT: 'updatedAt' } as const;

/** The arguments every business-solution connection takes: its filter, then the order. */
export function listArgs<Filter extends InputObjectRef<Types, unknown>>(arg: ArgBuilder<Types>, filter: Filter) {
  return {
    filter: arg({ type: filter, required: false }),
    orderBy: arg({ type: BusinessSolutionOrderFieldEnum, required: true, defaultValue: 'CREATED_AT' }),
    direction: arg({ type: SortDirectionEnum, required: true, defaultValue: 'DESC' }),
  };
}

/** Prisma's orderBy for listArgs, with the id as tie-breaker so cursors stay stable. */
export function listOrder({ orderBy, direction }: { orderBy: keyof typeof ORDER_COLUMN; direction: 'ASC' | 'DESC' }) {
  return [{ [ORDER_COLUMN[orderBy]]: direction === 'ASC' ? ('asc' as const) : ('desc' as const) }, { id: 'asc' as const }];
}

interface CommonFilter<Status extends string> {
  status?: Status[] | null;
  projectId?: { id: string } | null;
  createdAt?: { from?: Date | null; to?: Date | null } | null;
}

/** The where clause of the filter fields every kind shares; RLS already limits rows to the active tenant. */
export function commonWhere<Status extends string>(filter: CommonFilter<Status> | null | undefined) {
  return {
    status: filter?.status ? { in: filter.status } : undefined,
    projectId: filter?.projectId?.id,
    createdAt: dateRange(filter?.createdAt),
  };
}

/** A short quotation of what the caller sent, for validation messages. */
const shown = (value: unknown) => JSON.stringify(String(value).slice(0, 80));
const kindOf = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`);

/** Required text bounded as the table's CHECK constraint bounds it. */
export const boundedText = (max: number) =>
  z
    .string()
    .trim()
    .min(1, { error: `expected 1 to ${max} characters besides spaces, received none` })
    .max(max, { error: (issue) => `expected at most ${max} characters, received ${String(issue.input).length}` });
/** Free text the model reads; capped so one request cannot grow a row without bound. */
export const longText = (max: number) =>
  z.string().max(max, { error: (issue) => `expected at most ${max} characters, received ${String(issue.input).length}` });
export const httpUrl = z
  .url({ protocol: /^https?$/, error: (issue) => `expected an http(s) URL, received ${shown(issue.input)}` })
  .max(2048, { error: (issue) => `expected a URL of at most 2048 characters, received ${String(issue.input).length}` });
const inUnitInterval = { error: (issue: { input?: unknown }) => `expected a number from 0 to 1, received ${String(issue.input)}` };
export const unitInterval = z.number().min(0, inUnitInterval).max(1, inUnitInterval);
export const nonNegativeInt = z
  .number()
  .int()
  .min(0, { error: (issue) => `expected a whole number of 0 or more, received ${String(issue.input)}` });
export const metadataObject = z.record(z.string(), z.unknown(), {
  error: (issue) => `expected a JSON object, received ${kindOf(issue.input)}`,
});

/** Request input: a missing or null jsonb value leaves the column NULL. */
export function jsonInput(value: unknown): Prisma.InputJsonValue | undefined {
  return value === null || value === undefined ? undefined : (value as Prisma.InputJsonValue);
}

/** Result input: undefined keeps the stored value, null clears it to SQL NULL, anything else replaces it. */
export function jsonUpdate(value: unknown): Prisma.InputJsonValue | Prisma.NullableJsonNullValueInput | undefined {
  if (value === undefined) return undefined;
  return value === null ? Prisma.DbNull : (value as Prisma.InputJsonValue);
}

/** Runs a request's insert as the caller in the active tenant, in the mutation's savepoint. */
export async function requestAsCaller<T>(
  ctx: GatewayContext,
  create: (tx: TransactionClient, owner: { tenantId: string; userId: string }) => Promise<T>,
): Promise<T> {
  const userId = requireUserId(ctx);
  const tenantId = await requireTenantId(ctx);
  return runMutation(ctx, (tx) => create(tx, { tenantId, userId }));
}

export type SolutionTable =
  | 'contract_analyses'
  | 'localization_analyses'
  | 'customer_behavior_analyses'
  | 'compliance_monitoring'
  | 'learning_paths';

/**
 * Refuses a move back to PENDING. The row is locked `for update`, which RLS answers only for
 * rows the caller may update, so a row they cannot write is NOT_FOUND and no concurrent
 * update can slip a later status in between the check and the write.
 */
async function guardResultStatus(
  tx: TransactionClient,
  table: SolutionTable,
  label: string,
  id: string,
  next: string | null | undefined,
): Promise<void> {
  if (next !== 'PENDING') return;
  const rows = await tx.$queryRaw<{ status: string }[]>`
    select status::text as status from ${Prisma.raw(`public.${table}`)} where id = ${id}::uuid for update`;
  const current = rows[0]?.status;
  if (!current) throw new DomainError('NOT_FOUND', `no ${label} with this id is visible to you for writing`);
  if (current !== 'PENDING') {
    throw new DomainError(
      'INVALID_TRANSITION',
      `a ${label} cannot go back to PENDING once it has started: expected a status other than PENDING, received PENDING while it is ${current}`,
    );
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Result updates, as the caller in the mutation's savepoint; an update that sets nothing is
 * refused (requireChanges).
 */
export async function updateResultAsCaller<Data extends { status?: string }, T>(
  ctx: GatewayContext,
  target: { table: SolutionTable; label: string; id: string },
  data: Data,
  update: (tx: TransactionClient, data: Data) => Promise<T>,
): Promise<T> {
  requireUserId(ctx);
  requireChanges(data);
  // Not a row id at all: answer as for any id the caller cannot see, not with a database error.
  if (!UUID.test(target.id)) throw new DomainError('NOT_FOUND', `no ${target.label} with this id is visible to you for writing`);
  return runMutation(ctx, async (tx) => {
    await guardResultStatus(tx, target.table, target.label, target.id, data.status);
    return update(tx, data);
  });
}
