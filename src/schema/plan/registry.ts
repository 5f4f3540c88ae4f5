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
