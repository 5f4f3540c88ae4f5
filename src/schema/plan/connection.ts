import { type FieldNode, getNamedType, type GraphQLObjectType } from 'graphql';
import { decodeBase64 } from '@pothos/core';
import { alias, buildObject, type Compilation, type Fields, prismaModel, subfields, table } from './compilation.ts';
import type { OrderBy } from './registry.ts';
import { base64, decline, ident, isUuid, type ModelInfo, nameLiteral, Row } from './sql.ts';

/** Compiles the JSON object of one row (compile.ts); a page's edges hold one per row. */
export type ObjectSql = (c: Compilation, type: GraphQLObjectType, fields: Fields, row: Row) => string;

export interface ConnectionSource {
  model: ModelInfo;
  /** Conditions on a row of the page (the filter, or the parent's key). */
  where: (row: Row) => string[];
  orderBy: OrderBy[];
  defaultSize: number;
  maxSize: number;
}

/**
 * A page as Pothos' prisma connections answer it: first+1 rows in order (the extra one only
 * tells hasNextPage), cursors `GPC:S:<id>`, `after` meaning strictly after the cursor's row in
 * that order (no page when that row is gone or hidden), totalCount under the same filter.
 */
export function connectionSql(
  c: Compilation,
  type: GraphQLObjectType,
  nodes: FieldNode[],
  args: Record<string, unknown>,
  source: ConnectionSource,
  objectSql: ObjectSql,
): string {
  const { first, after, last, before } = args as { first?: number | null; after?: string | null; last?: number | null; before?: string | null };
  if (last != null || before != null) decline('backward pages');
  if (first != null && first < 0) decline('negative first');
  const limit = Math.min(first ?? source.defaultSize, source.maxSize);
  const order = orderColumns(source);
  const from = table(source.model);

  const inner = new Row(source.model, alias(c));
  // A malformed cursor declines whether or not the page is read, as the resolver refuses it either way.
  const afterId = after == null ? undefined : cursorId(after);
  const page = new Row(source.model, alias(c));
  const orderOf = (row: Row) => order.map(({ field, desc }) => `${row.column(field)}${desc ? ' desc' : ''}`).join(', ');
  const cursor = base64('GPC:S:', page.column('id'));
  const agg = (value: string) => `array_agg(${value} order by ${orderOf(page)})`;

  const entries: [string, string][] = [];
  let readsPage = false;
  for (const [key, fieldNodes] of subfields(c, type, nodes)) {
    const name = fieldNodes[0]!.name.value;
    readsPage ||= name === 'edges' || name === 'pageInfo';
    if (name === '__typename') entries.push([key, nameLiteral(type.name)]);
    else if (name === 'totalCount') {
      const counted = new Row(source.model, alias(c));
      const where = source.where(counted);
      entries.push([key, `(select count(*) from ${from} ${counted.alias}${where.length ? ` where ${where.join(' and ')}` : ''})::int`]);
    } else if (name === 'edges') {
      const edgeType = getNamedType(type.getFields().edges!.type) as GraphQLObjectType;
      entries.push([key, `coalesce(to_json((${agg(edgeSql(c, edgeType, fieldNodes, page, cursor, objectSql))})[1:${limit}]), '[]'::json)`]);
    } else if (name === 'pageInfo') {
      const info = getNamedType(type.getFields().pageInfo!.type) as GraphQLObjectType;
      const parts: [string, string][] = [];
      for (const [infoKey, infoNodes] of subfields(c, info, fieldNodes)) {
        const infoName = infoNodes[0]!.name.value;
        if (infoName === '__typename') parts.push([infoKey, nameLiteral(info.name)]);
        else if (infoName === 'hasNextPage') parts.push([infoKey, `count(*) > ${limit}`]);
        else if (infoName === 'hasPreviousPage') parts.push([infoKey, after != null ? 'true' : 'false']);
        else if (infoName === 'startCursor') parts.push([infoKey, `(${agg(cursor)})[least(1, ${limit})]`]);
        else if (infoName === 'endCursor') parts.push([infoKey, `(${agg(cursor)})[least(count(*), ${limit})]`]);
        else decline(`pageInfo.${infoName}`);
      }
      entries.push([key, buildObject(parts)]);
    } else decline(`connection field ${name}`);
  }
  const object = buildObject(entries);
  // Every field reading the page is an aggregate, so the select yields one row; without them, no page is read.
  if (!readsPage) return `(select ${object})`;
  // Built only when the page is read: a parameter the statement never uses would have no type.
  const conditions = source.where(inner);
  if (afterId !== undefined) conditions.push(afterCondition(c, source, order, inner, afterId));
  // The page's columns are known only once every field above has read what it needs.
  const columns = [...new Set([...page.used, 'id'])].map((column) => `${inner.alias}.${ident(column)}`).join(', ');
  const pageSql =
    `select ${columns} from ${from} ${inner.alias}${conditions.length ? ` where ${conditions.join(' and ')}` : ''}` +
    ` order by ${orderOf(inner)} limit ${limit + 1}`;
  return `(select ${object} from (${pageSql}) ${page.alias}${page.joinSql})`;
}

function edgeSql(c: Compilation, type: GraphQLObjectType, nodes: FieldNode[], page: Row, cursor: string, objectSql: ObjectSql): string {
  const entries: [string, string][] = [];
  for (const [key, fieldNodes] of subfields(c, type, nodes)) {
    const name = fieldNodes[0]!.name.value;
    if (name === '__typename') entries.push([key, nameLiteral(type.name)]);
    else if (name === 'cursor') entries.push([key, cursor]);
    else if (name === 'node') {
      const nodeType = getNamedType(type.getFields().node!.type) as GraphQLObjectType;
      if (prismaModel(c, nodeType) !== page.model) decline('edge node of another model');
      entries.push([key, objectSql(c, nodeType, subfields(c, nodeType, fieldNodes), page)]);
    } else decline(`edge field ${name}`);
  }
  return buildObject(entries);
}

interface OrderColumn {
  field: string;
  desc: boolean;
}

/** The list's order as columns; only non-null columns, so comparisons for `after` need no null rules. */
function orderColumns(source: ConnectionSource): OrderColumn[] {
  return source.orderBy.flatMap((entry) =>
    Object.entries(entry).map(([field, direction]) => {
      const column = source.model.fields.get(field);
      if (!column || column.kind === 'object' || !column.isRequired || (direction !== 'asc' && direction !== 'desc')) {
        return decline(`order by ${field}`);
      }
      return { field, desc: direction === 'desc' };
    }),
  );
}

function cursorId(cursor: string): string {
  let decoded: string;
  try {
    decoded = decodeBase64(cursor);
  } catch {
    return decline('malformed cursor');
  }
  const id = decoded.startsWith('GPC:S:') ? decoded.slice(6) : undefined;
  return isUuid(id) ? id : decline('unplanned cursor');
}

/** Rows strictly after the cursor's row in the page's order; none when that row cannot be read. */
function afterCondition(c: Compilation, source: ConnectionSource, order: OrderColumn[], row: Row, id: string): string {
  const at = new Row(source.model, alias(c));
  const later = order.map((current, index) => {
    const ties = order.slice(0, index).map(({ field }) => `${row.column(field)} = ${at.column(field)}`);
    const beyond = `${row.column(current.field)} ${current.desc ? '<' : '>'} ${at.column(current.field)}`;
    return `(${[...ties, beyond].join(' and ')})`;
  });
  return `exists (select 1 from ${table(source.model)} ${at.alias} where ${at.alias}."id" = ${c.params.add(id)} and (${later.join(' or ')}))`;
}
