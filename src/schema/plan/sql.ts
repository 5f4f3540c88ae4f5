import { escapeLiteral } from 'pg';
import { getDatamodel } from '../../generated/pothos-types.ts';

/**
 * The planner declines an operation; the gateway then executes it field by field. Not an Error:
 * declining is routine, and capturing a stack trace each time would cost more than planning.
 */
export class Unplannable {
  constructor(readonly reason: string) {}
}

export function decline(reason: string): never {
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- a decision, not a failure
  throw new Unplannable(reason);
}

interface DatamodelField {
  name: string;
  kind: string;
  type: string;
  isRequired: boolean;
  isList: boolean;
  relationName?: string;
  relationFromFields?: readonly string[];
}

/** What the planner knows of a Prisma model: its table, columns and relations. */
export interface ModelInfo {
  name: string;
  table: string;
  columns: Map<string, string>;
  fields: Map<string, DatamodelField>;
}

/** Prisma's runtime data model: the one place table and column names (@map, @@map) are kept. */
export interface RuntimeDataModel {
  models: Record<string, { dbName: string | null; fields: readonly { name: string; kind: string; dbName?: string | null }[] }>;
}

export function modelsOf(runtime: RuntimeDataModel): Map<string, ModelInfo> {
  const pothos = getDatamodel().datamodel.models as unknown as Record<string, { fields: DatamodelField[] }>;
  const models = new Map<string, ModelInfo>();
  for (const [name, model] of Object.entries(runtime.models)) {
    const fields = new Map((pothos[name]?.fields ?? []).map((field) => [field.name, field]));
    const columns = new Map(
      model.fields.filter((field) => field.kind !== 'object').map((field) => [field.name, field.dbName ?? field.name]),
    );
    models.set(name, { name, table: model.dbName ?? name, columns, fields });
  }
  return models;
}

export const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** A GraphQL name (response key, type name) as an SQL string literal; names are [_A-Za-z][_0-9A-Za-z]*. */
export function nameLiteral(name: string): string {
  if (!/^[_A-Za-z][_0-9A-Za-z]*$/.test(name)) decline(`not a GraphQL name: ${name}`);
  return `'${name}'`;
}

/**
 * One statement's parameters, numbered as they are added; PostgreSQL infers each one's type from
 * where it is compared or assigned. `inline` writes them as literals instead, for a statement
 * sent in a script (which takes no parameters): escaped by pg's escapeLiteral, and text with a
 * NUL, which a script cannot carry, declines.
 */
export class Params {
  readonly values: unknown[] = [];
  constructor(private readonly inline = false) {}

  add(value: unknown): string {
    if (this.inline) return literal(value);
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

function literal(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number' && Number.isFinite(value)) return `'${value}'`;
  if (typeof value === 'string' && !value.includes('\0')) return escapeLiteral(value);
  return decline('value for a script');
}

/**
 * A row of a model under an SQL alias; a page subquery lists exactly the columns read from it.
 * `joins` belong to the FROM clause the row is read in: to-one relations join there.
 */
export class Row {
  readonly used = new Set<string>();
  constructor(
    readonly model: ModelInfo,
    readonly alias: string,
    readonly joins: string[] = [],
  ) {}

  /** The FROM clause's joins, in the order they were added (a join may use an earlier one's alias). */
  get joinSql(): string {
    return this.joins.map((join) => ` ${join}`).join('');
  }

  column(field: string): string {
    const column = this.model.columns.get(field) ?? decline(`${this.model.name}.${field} is not a column`);
    this.used.add(column);
    return `${this.alias}.${ident(column)}`;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID.test(value);

/**
 * Base64 of `prefix` and a uuid, as Buffer#toString('base64') writes it. Every id is a uuid
 * (tests/api/planned-reads.test.ts checks the schema), so the text is ASCII without
 * backslashes and the bytea cast copies it byte for byte. PostgreSQL ends a line after 76
 * characters of output (57 bytes of input), so longer texts have those line ends removed.
 */
export function base64(prefix: string, uuid: string): string {
  if (!/^[A-Za-z_:]+$/.test(prefix)) decline(`id prefix ${prefix}`);
  const encoded = `encode(('${prefix}' || ${uuid})::bytea, 'base64')`;
  return prefix.length + 36 < 57 ? encoded : `translate(${encoded}, E'\\n', '')`;
}

/** DateTime as Date#toISOString writes it, in UTC with milliseconds. */
export const isoTime = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * The SQL for the subset of Prisma's where input the lists produce: equality, `in`, ranges,
 * AND/OR. Anything else (text search, relation filters, NOT) declines, so the operation runs
 * through Prisma instead.
 */
export function whereSql(where: object, row: Row, params: Params): string[] {
  const conditions: string[] = [];
  for (const [key, value] of Object.entries(where)) {
    if (value === undefined) continue;
    if (key === 'AND') {
      for (const part of Array.isArray(value) ? value : [value]) conditions.push(...whereSql(part as object, row, params));
      continue;
    }
    if (key === 'OR') {
      const parts = (value as object[]).map((part) => whereSql(part, row, params));
      conditions.push(parts.length === 0 ? 'false' : `(${parts.map((part) => `(${part.length ? part.join(' and ') : 'true'})`).join(' or ')})`);
      continue;
    }
    const field = row.model.fields.get(key);
    if (!field || field.kind === 'object' || field.isList) decline(`filter on ${row.model.name}.${key}`);
    conditions.push(...fieldConditions(field, row.column(key), value, params));
  }
  return conditions;
}

const RANGE = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

function fieldConditions(field: DatamodelField, column: string, value: unknown, params: Params): string[] {
  if (value === null) return [`${column} is null`];
  if (typeof value !== 'object' || value instanceof Date) return [`${column} = ${scalar(field, value, params)}`];
  const operators = Object.keys(value).filter((key) => (value as Record<string, unknown>)[key] !== undefined);
  // Prisma's mode changes every comparison beside it; only `contains` is translated with it.
  if (operators.includes('mode') && operators.some((key) => key !== 'mode' && key !== 'contains')) decline('mode with other operators');
  const conditions: string[] = [];
  for (const [operator, operand] of Object.entries(value)) {
    if (operand === undefined) continue;
    if (operator === 'equals') conditions.push(...fieldConditions(field, column, operand, params));
    else if (operator === 'in') {
      const values = operand as unknown[];
      conditions.push(values.length ? `${column} in (${values.map((item) => scalar(field, item, params)).join(', ')})` : 'false');
    } else if (operator in RANGE) {
      conditions.push(`${column} ${RANGE[operator as keyof typeof RANGE]} ${scalar(field, operand, params)}`);
    } else if (operator === 'contains' && field.type === 'String' && typeof operand === 'string') {
      // As Prisma writes it: the text between two wildcards, not escaped, so % and _ in it match as
      // patterns there too; `mode: 'insensitive'` makes it ILIKE.
      const like = (value as { mode?: string }).mode === 'insensitive' ? 'ilike' : 'like';
      conditions.push(`${column} ${like} ('%' || ${params.add(operand)} || '%')`);
    } else if (operator !== 'mode' || (operand !== 'insensitive' && operand !== 'default')) {
      decline(`filter operator ${operator}`);
    }
  }
  return conditions;
}

function scalar(field: DatamodelField, value: unknown, params: Params): string {
  if (field.kind === 'enum') {
    // Enum values come from GraphQL's enum coercion; inlined so the comparison keeps the column's type.
    if (typeof value !== 'string' || !/^[A-Z][A-Z0-9_]*$/.test(value)) decline('enum value');
    return `'${value}'`;
  }
  if (field.type === 'DateTime' && value instanceof Date) return params.add(value.toISOString());
  if (field.type === 'Boolean' && typeof value === 'boolean') return value ? 'true' : 'false';
  if (field.type === 'String' && isUuid(value)) return params.add(value);
  return decline(`filter value for ${field.name}`);
}
