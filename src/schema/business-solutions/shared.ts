import type { EnumRef, ObjectRef } from '@pothos/core';
import { z } from 'zod';
import type { GatewayContext } from '../../session/context.ts';
import type { TransactionClient } from '../../session/request-transaction.ts';
import { DomainError } from '../../errors.ts';
import { Prisma } from '../../generated/prisma/client.ts';
import { builder } from '../builder.ts';
import { contains, DateRangeInput, dateRange, searchText } from '../filters.ts';
import { byColumn, delegateName, tenantList } from '../lists.ts';
import { ProjectRef } from '../projects.ts';
import { requireChanges, runMutation } from '../../session/mutation.ts';

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;

export const BusinessSolutionOrderFieldEnum = builder.enumType('BusinessSolutionOrderField', {
  values: ['CREATED_AT', 'UPDATED_AT'] as const,
});
const ORDER_COLUMN = { CREATED_AT: 'createdAt', UPDATED_AT: 'updatedAt' } as const;

type SolutionModel = 'ContractAnalysis' | 'LocalizationAnalysis' | 'CustomerBehaviorAnalysis' | 'ComplianceMonitoring' | 'LearningPath';

/** The filter every kind's connection takes; `search` only where the kind has text worth searching. */
interface SolutionFilter {
  status?: string[] | null;
  projectId?: { id: string } | null;
  createdAt?: { from?: Date | null; to?: Date | null } | null;
  search?: string | null;
}

export interface SolutionListSpec<Model extends SolutionModel> {
  /** The Prisma model; the filter input is named `${model}Filter`. */
  model: Model;
  /** The Query field. */
  field: string;
  description: string;
  status: EnumRef<Types, string>;
  /** Text columns the filter's `search` matches, case-insensitively, any of them; none means no search. */
  search?: { columns: readonly string[]; description: string };
}

/**
 * A kind's connection on Query: filtered by status, project, creation date and (where the kind
 * has one) text, ordered by creation or update time with the id as tie-breaker so cursors stay
 * stable, with totalCount. RLS already limits rows to the active tenant.
 */
export function solutionList<Model extends SolutionModel>(spec: SolutionListSpec<Model>) {
  const Filter = builder.inputRef<SolutionFilter>(`${spec.model}Filter`).implement({
    fields: (t) => ({
      status: t.field({ type: [spec.status], required: false }),
      projectId: t.globalID({ for: ProjectRef, required: false }),
      createdAt: t.field({ type: DateRangeInput, required: false }),
      ...(spec.search
        ? { search: t.string({ required: false, validate: searchText, description: spec.search.description }) }
        : {}),
    }),
  });

  tenantList({
    field: spec.field,
    model: spec.model,
    description: spec.description,
    filter: Filter,
    where: (filter: SolutionFilter | null | undefined) => ({
      status: filter?.status ? { in: filter.status } : undefined,
      projectId: filter?.projectId?.id,
      createdAt: dateRange(filter?.createdAt),
      OR: filter?.search && spec.search ? spec.search.columns.map((column) => ({ [column]: contains(filter.search!) })) : undefined,
    }),
    order: { field: BusinessSolutionOrderFieldEnum, defaultValue: 'CREATED_AT', by: byColumn(ORDER_COLUMN) },
  });
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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Result updates (service_role, which scope-auth has checked) in the mutation's savepoint; an
 * update that sets nothing is refused (requireChanges). The database refuses a status move its
 * rules do not allow (INVALID_TRANSITION).
 */
async function updateResult<Data extends object, T>(
  ctx: GatewayContext,
  target: { label: string; id: string },
  data: Data,
  update: (tx: TransactionClient, data: Data) => Promise<T>,
): Promise<T> {
  requireChanges(data);
  // Not a row id at all: answer as for any id the caller cannot see, not with a database error.
  if (!UUID.test(target.id)) throw new DomainError('NOT_FOUND', `no ${target.label} with this id exists`);
  return runMutation(ctx, (tx) => update(tx, data));
}

export interface SolutionResultSpec<Model extends SolutionModel> {
  model: Model;
  /** How errors name a row of the kind. */
  label: string;
  /** How the mutation's description names it. */
  noun: string;
  ref: ObjectRef<Types, unknown>;
  status: EnumRef<Types, string>;
  /** jsonb result columns: null clears one, leaving it out keeps it. */
  results: readonly string[];
  /** Timestamps the model estimates (set or cleared like the results). */
  dates?: readonly string[];
  /** Scores from 0 to 1 besides `confidence`. */
  scores?: readonly string[];
}

/**
 * `update${model}Result(id, input)`: records progress or results of a row the caller requested,
 * or of any row as ADMIN and up. Its input is the status, the jsonb results, the kind's dates
 * and scores, then `confidence` and `processingTimeMs`, in that order.
 */
export function solutionResultUpdate<Model extends SolutionModel>(spec: SolutionResultSpec<Model>) {
  const Input = builder.inputRef<Record<string, unknown>>(`Update${spec.model}ResultInput`).implement({
    fields: (f) => ({
      status: f.field({ type: spec.status, required: false }),
      ...Object.fromEntries(spec.results.map((name) => [name, f.field({ type: 'JSON', required: false })])),
      ...Object.fromEntries((spec.dates ?? []).map((name) => [name, f.field({ type: 'DateTime', required: false })])),
      ...Object.fromEntries((spec.scores ?? []).map((name) => [name, f.float({ required: false, validate: unitInterval })])),
      confidence: f.float({ required: false, validate: unitInterval }),
      processingTimeMs: f.int({ required: false, validate: nonNegativeInt }),
    }),
  });
  const results = new Set(spec.results);
  const delegate = delegateName(spec.model);

  builder.mutationField(`update${spec.model}Result`, (t) =>
    t.prismaField({
      type: spec.model,
      description:
        `Records progress or results of a ${spec.noun} (service_role: the worker). Null clears a result. ` +
        'The database decides which status moves are allowed (INVALID_TRANSITION otherwise).',
      authScopes: { serviceRole: true },
      args: {
        id: t.arg.globalID({ for: spec.ref, required: true }),
        input: t.arg({ type: Input, required: true }),
      },
      // The errors plugin cannot resolve its options through the generic model; the shape is what each kind had.
      errors: { dataField: { name: delegate } } as never,
      resolve: (query, _root, { id, input }, ctx) => {
        // Results and dates: null clears, so they pass as sent (jsonb through jsonUpdate); status cannot be cleared.
        const data = Object.fromEntries(
          Object.entries(input).map(([name, value]) => [
            name,
            results.has(name) ? jsonUpdate(value) : name === 'status' ? (value ?? undefined) : value,
          ]),
        ) as { status?: string };
        return updateResult(ctx, { label: spec.label, id: id.id }, data, (tx, changes) =>
          (tx as unknown as Record<string, { update(args: object): Promise<unknown> }>)[delegate]!.update({
            ...query,
            where: { id: id.id },
            data: changes,
          }),
        ) as never;
      },
    }),
  );
}
