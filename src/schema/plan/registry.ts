import type { GatewayContext } from '../../session/context.ts';

/** Prisma's orderBy entries as the lists write them: `{ column: 'asc' | 'desc' }`. */
export type OrderBy = Record<string, unknown>;

/** A Query list the read planner may answer (registered by tenantList). */
export interface PlannedList {
  model: string;
  where: (filter: unknown, ctx: GatewayContext) => object | Promise<object>;
  orderBy: (field: string, direction: 'ASC' | 'DESC') => OrderBy[];
  defaultSize: number;
  maxSize: number;
  /** The field is refused to anonymous callers before any SQL. */
  signedIn: boolean;
}

/** A relatedConnection the planner may answer: its static order and page bounds. */
export interface PlannedRelation {
  orderBy: OrderBy[];
  defaultSize: number;
  maxSize: number;
}

const lists = new Map<string, PlannedList>();
const relations = new Map<string, PlannedRelation>();

export function registerPlannedList(field: string, list: PlannedList): void {
  lists.set(field, list);
}

export const plannedList = (field: string) => lists.get(field);

/**
 * Records a relatedConnection's order and page size for the planner and returns its options
 * unchanged, so Pothos and the planner read one definition. An order the planner cannot read
 * (a function, a relation's column) is left unregistered: such a field runs through Prisma.
 */
export function plannedRelation<Options extends object>(type: string, field: string, options: Options): Options {
  const { query, defaultSize, maxSize, cursor } = options as { query?: { orderBy?: unknown }; defaultSize?: number; maxSize?: number; cursor?: unknown };
  const orderBy = query?.orderBy;
  const entries = Array.isArray(orderBy) ? orderBy : [orderBy];
  const plain = entries.every((entry) => typeof entry === 'object' && entry !== null && Object.values(entry).every((v) => v === 'asc' || v === 'desc'));
  if (cursor === 'id' && plain && defaultSize !== undefined && maxSize !== undefined) {
    relations.set(`${type}.${field}`, { orderBy: entries as OrderBy[], defaultSize, maxSize });
  }
  return options;
}

export const plannedRelationOf = (type: string, field: string) => relations.get(`${type}.${field}`);

/** The row a planned update writes and the columns it sets (undefined: left as it is). */
export interface UpdateWrite {
  id: string;
  data: Record<string, unknown>;
}

/**
 * A mutation the planner may answer with one UPDATE … RETURNING: the resolver and the planner
 * both take the row and the changes from `write`, given the arguments after validation, so the
 * two cannot disagree about what is written. `write` throws when the resolver would refuse
 * before writing (no caller, nothing to change); the planner then declines.
 */
export interface PlannedUpdate<Args> {
  model: string;
  write: (args: Args, ctx: GatewayContext) => UpdateWrite;
}

const updates = new Map<string, PlannedUpdate<never>>();

export function plannedUpdate<Args>(field: string, update: PlannedUpdate<Args>): PlannedUpdate<Args> {
  updates.set(field, update as PlannedUpdate<never>);
  return update;
}

export const plannedUpdateOf = (field: string) => updates.get(field) as PlannedUpdate<Record<string, unknown>> | undefined;
