// The `filter` of a Supabase Realtime postgres_changes binding (`column=op.value`, conditions
// joined by commas, each optionally negated with `not.`), as realtime-js writes it, evaluated
// in memory against a row's JSON. Conditions follow SQL's three-valued logic: a null (or absent)
// cell makes a comparison unknown, and an unknown condition, negated or not, does not match.

/** Why a filter cannot be served; the message is shown to the client as the join's refusal. */
export class FilterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FilterError';
  }
}

export interface RowFilter {
  /** The columns the conditions read. */
  readonly columns: readonly string[];
  /** True when every condition holds for the row. */
  matches(row: Record<string, unknown>): boolean;
}

type Operator = 'eq' | 'neq' | 'lt' | 'lte' | 'gt' | 'gte' | 'in' | 'is' | 'isdistinct';
const OPERATORS = new Set<string>(['eq', 'neq', 'lt', 'lte', 'gt', 'gte', 'in', 'is', 'isdistinct']);
const IS_VALUES = new Set(['null', 'true', 'false', 'unknown']);
const COLUMN = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A client states what it wants in a few conditions; these bound the work per change. */
const MAX_FILTER_LENGTH = 2_000;
const MAX_CONDITIONS = 10;
const MAX_LIST_ITEMS = 100;

interface Condition {
  column: string;
  operator: Operator;
  negated: boolean;
  values: string[];
}

/** Every row matches an absent filter. */
export const MATCH_ALL: RowFilter = { columns: [], matches: () => true };

export function parseRowFilter(text: string): RowFilter {
  if (text.length > MAX_FILTER_LENGTH) throw new FilterError(`a filter may be at most ${MAX_FILTER_LENGTH} characters long`);
  const conditions = splitOutside(text, ',').map(parseCondition);
  if (conditions.length > MAX_CONDITIONS) throw new FilterError(`a filter may combine at most ${MAX_CONDITIONS} conditions`);
  return {
    columns: [...new Set(conditions.map((condition) => condition.column))],
    matches: (row) => conditions.every((condition) => holds(condition, row) === true),
  };
}

function parseCondition(text: string): Condition {
  const equals = text.indexOf('=');
  const column = text.slice(0, equals).trim();
  if (equals < 0 || !COLUMN.test(column)) throw new FilterError(`"${text}" is not a filter condition: write column=operator.value, e.g. status=eq.COMPLETED`);
  let rest = text.slice(equals + 1);
  const negated = rest.startsWith('not.');
  if (negated) rest = rest.slice(4);
  const dot = rest.indexOf('.');
  const operator = dot < 0 ? rest : rest.slice(0, dot);
  if (!OPERATORS.has(operator)) {
    throw new FilterError(`filter operator "${operator}" is not served; use one of ${[...OPERATORS].join(', ')}`);
  }
  const value = rest.slice(dot + 1);
  if (operator === 'in') return { column, operator, negated, values: parseList(value) };
  if (operator === 'is' && !IS_VALUES.has(value.toLowerCase())) throw new FilterError(`"is" takes null, true, false or unknown, not "${value}"`);
  return { column, operator: operator as Operator, negated, values: [unquote(value)] };
}

function parseList(text: string): string[] {
  if (!text.startsWith('(') || !text.endsWith(')')) throw new FilterError(`"in" takes a list in parentheses, e.g. in.(PENDING,PROCESSING), not "${text}"`);
  const items = splitOutside(text.slice(1, -1), ',').map(unquote);
  if (items.length > MAX_LIST_ITEMS) throw new FilterError(`an "in" list may hold at most ${MAX_LIST_ITEMS} values`);
  return items;
}

/** Splits on `separator` where it stands outside double quotes and parentheses, as the server does. */
function splitOutside(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (quoted) {
      if (char === '\\') i += 1;
      else if (char === '"') quoted = false;
    } else if (char === '"') quoted = true;
    else if (char === '(') depth += 1;
    else if (char === ')') depth -= 1;
    else if (char === separator && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (quoted || depth !== 0) throw new FilterError(`unbalanced quotes or parentheses in "${text}"`);
  parts.push(text.slice(start));
  return parts;
}

/** A value in PostgREST's double quotes (how realtime-js escapes commas and parentheses) unquoted. */
function unquote(value: string): string {
  if (value.length < 2 || !value.startsWith('"') || !value.endsWith('"')) return value;
  return value.slice(1, -1).replace(/\\(.)/g, '$1');
}

/** true, false, or null for unknown. */
function holds(condition: Condition, row: Record<string, unknown>): boolean | null {
  // A column the row does not carry (a deletion carries a few) is unknown, not null.
  if (!Object.hasOwn(row, condition.column)) return null;
  const result = compareCell(condition, row[condition.column]);
  return result === null || !condition.negated ? result : !result;
}

function compareCell({ operator, values }: Condition, cell: unknown): boolean | null {
  const [value = ''] = values;
  if (operator === 'is') return isValue(cell, value.toLowerCase());
  if (operator === 'isdistinct') return cell === null ? true : equals(cell, value) !== true;
  if (cell === null) return null;
  switch (operator) {
    case 'eq':
      return equals(cell, value);
    case 'neq':
      return negate(equals(cell, value));
    case 'in':
      return values.some((item) => equals(cell, item) === true);
    default: {
      const order = compare(cell, value);
      if (order === null) return null;
      return { lt: order < 0, lte: order <= 0, gt: order > 0, gte: order >= 0 }[operator as 'lt' | 'lte' | 'gt' | 'gte'];
    }
  }
}

const negate = (result: boolean | null) => (result === null ? null : !result);

function isValue(cell: unknown, value: string): boolean {
  if (value === 'null') return cell === null;
  if (value === 'unknown') return cell === null;
  return cell === (value === 'true');
}

/** The cell as its JSON type says, against the filter's text; null where they cannot be compared. */
function equals(cell: unknown, value: string): boolean | null {
  if (typeof cell === 'string') return cell === value;
  if (typeof cell === 'number') return value.trim() !== '' && Number(value) === cell;
  if (typeof cell === 'boolean') return value.toLowerCase() === String(cell);
  return null;
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$/;

/** Numbers as numbers, timestamps as instants, other text by code point; null where incomparable. */
function compare(cell: unknown, value: string): number | null {
  if (typeof cell === 'number') {
    const number = Number(value);
    return value.trim() === '' || Number.isNaN(number) ? null : cell - number;
  }
  if (typeof cell !== 'string') return null;
  if (TIMESTAMP.test(cell) && TIMESTAMP.test(value)) {
    const difference = instant(cell) - instant(value);
    if (!Number.isNaN(difference)) return difference;
  }
  return cell < value ? -1 : cell > value ? 1 : 0;
}

/** Milliseconds of a timestamp as Postgres prints it (`2025-01-02 04:00:00+00`) or as ISO 8601. */
function instant(timestamp: string): number {
  return Date.parse(timestamp.replace(' ', 'T').replace(/(:\d{2}(?:\.\d+)?[+-]\d{2})$/, '$1:00'));
}
