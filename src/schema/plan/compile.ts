import {
  type FieldNode,
  type FragmentDefinitionNode,
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  GraphQLIncludeDirective,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLSchema,
  GraphQLSkipDirective,
  isAbstractType,
  isEnumType,
  isInputObjectType,
  isNonNullType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { decodeBase64 } from '@pothos/core';
import { decodeGlobalID } from '@pothos/plugin-relay';
import type { GatewayContext } from '../../session/context.ts';
import { type OrderBy, plannedList, plannedRelationOf } from './registry.ts';
import { base64, decline, ident, isoTime, isUuid, type ModelInfo, nameLiteral, Params, Row, whereSql } from './sql.ts';

/** One statement answering a whole operation: its text and parameters. */
export interface ReadPlan {
  sql: string;
  params: unknown[];
}

interface Compilation {
  schema: GraphQLSchema;
  models: Map<string, ModelInfo>;
  fragments: Record<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
  params: Params;
  ctx: GatewayContext;
  aliases: number;
}

type Fields = Map<string, FieldNode[]>;

interface Extensions {
  pothosOptions?: { authScopes?: unknown; skipTypeScopes?: unknown };
  pothosExposedField?: string;
  pothosPrismaModel?: string;
  pothosPrismaRelationField?: { name: string; type: string; isList: boolean; relationName: string };
}

const ext = (thing: { extensions?: unknown }) => (thing.extensions ?? {}) as Extensions;

/**
 * Compiles a query operation into one SQL statement that returns the response's `data` as JSON,
 * or throws Unplannable. Only what the planner can answer exactly as the field resolvers would
 * is compiled: Prisma-backed objects, their exposed columns, nullable to-one relations,
 * registered lists and related connections (first/after), and node/nodes. The statement runs
 * in the request's transaction, as the caller, so row-level security filters every row it reads.
 */
export async function compileOperation(
  schema: GraphQLSchema,
  models: Map<string, ModelInfo>,
  operation: OperationDefinitionNode,
  fragments: Record<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
  ctx: GatewayContext,
): Promise<ReadPlan> {
  if (operation.operation !== 'query') decline('not a query');
  const query = schema.getQueryType()!;
  const c: Compilation = { schema, models, fragments, variables, params: new Params(), ctx, aliases: 0 };
  const entries: [string, string][] = [];
  for (const [key, nodes] of collectFields(c, query, [operation.selectionSet])) {
    entries.push([key, await rootField(c, query, nodes)]);
  }
  // An operation reading no table needs no statement (nor a transaction).
  if (c.aliases === 0) decline('reads no rows');
  return { sql: `select ${buildObject(entries)}::text as data`, params: c.params.values };
}

async function rootField(c: Compilation, query: GraphQLObjectType, nodes: FieldNode[]): Promise<string> {
  const name = nodes[0]!.name.value;
  if (name === '__typename') return nameLiteral(query.name);
  const field = query.getFields()[name] ?? decline(`no field ${name}`);
  const scopes = ext(field).pothosOptions?.authScopes;
  // The only scope the planner judges itself is a list's signedIn (below); any other is scope-auth's.
  if (scopes !== undefined && !(isOnlySignedIn(scopes) && plannedList(name)?.signedIn)) decline(`${name} has auth scopes`);
  const args = getArgumentValues(field, nodes[0]!, c.variables);
  if (name === 'node') return nodeLookup(c, args.id, nodes);
  if (name === 'nodes') {
    const ids = args.ids as unknown[];
    return `json_build_array(${ids.map((id) => nodeLookup(c, id, nodes)).join(', ')})`;
  }
  const list = plannedList(name) ?? decline(`${name} is not planned`);
  if (list.signedIn && !(c.ctx.claims.role === 'authenticated' && typeof c.ctx.claims.sub === 'string')) decline('signed out');
  const model = c.models.get(list.model) ?? decline(`no model ${list.model}`);
  const connection = getNamedType(field.type) as GraphQLObjectType;
  const filter = args.filter == null ? null : await plannableFilter(field.args.find((arg) => arg.name === 'filter')!.type, args.filter);
  let where: object;
  try {
    where = await list.where(filter, c.ctx);
  } catch {
    // The filter or the caller is refused: the resolver says so in its own words.
    return decline('where refused');
  }
  return connectionSql(c, connection, nodes, args, {
    model,
    where: (row) => whereSql(where, row, c.params),
    orderBy: list.orderBy(args.orderBy as string, args.direction as 'ASC' | 'DESC'),
    defaultSize: list.defaultSize,
    maxSize: list.maxSize,
  });
}

const isOnlySignedIn = (scopes: unknown) =>
  typeof scopes === 'object' && scopes !== null && Object.keys(scopes).length === 1 && (scopes as { signedIn?: unknown }).signedIn === true;

interface StandardSchema {
  '~standard': { validate(value: unknown): StandardResult | Promise<StandardResult> };
}
type StandardResult = { value: unknown; issues?: undefined } | { issues: readonly unknown[] };

/**
 * The filter as the resolver receives it, for filters whose fields are enums, booleans, date
 * ranges and validated text: text goes through its field's schema (zod, through the validation
 * plugin) exactly as Pothos would run it, and a value it refuses declines, so the resolver
 * reports the refusal in its own words. Global ids are mapped by Pothos' argument plugins,
 * which the planner does not repeat, so a filter using one declines too.
 */
async function plannableFilter(type: GraphQLInputType, value: unknown): Promise<Record<string, unknown>> {
  const input = getNamedType(type);
  if (!isInputObjectType(input) || (input.extensions as Extensions & { pothosOptions?: { validate?: unknown } }).pothosOptions?.validate) {
    return decline('filter type');
  }
  const filter: Record<string, unknown> = {};
  for (const [name, fieldValue] of Object.entries(value as object)) {
    filter[name] = fieldValue;
    if (fieldValue == null) continue;
    const field = input.getFields()[name];
    const fieldType = getNamedType(field?.type);
    const validate = (field?.extensions as { pothosOptions?: { validate?: StandardSchema } } | undefined)?.pothosOptions?.validate;
    if ((isEnumType(fieldType) || fieldType?.name === 'Boolean') && !validate) continue;
    if (isInputObjectType(fieldType) && fieldType.name === 'DateRange' && !validate) continue;
    if (fieldType?.name !== 'String' || typeof validate?.['~standard']?.validate !== 'function') return decline(`filter field ${name}`);
    const result = await validate['~standard'].validate(fieldValue);
    if (result.issues) return decline(`filter field ${name} is invalid`);
    filter[name] = result.value;
  }
  return filter;
}

/** `node(id:)`: the row of the id's type, or null when it does not exist or is not the caller's to see. */
function nodeLookup(c: Compilation, id: unknown, nodes: FieldNode[]): string {
  if (typeof id !== 'string') return decline('node id');
  let decoded: { typename: string; id: string };
  try {
    decoded = decodeGlobalID(id);
  } catch {
    return decline('malformed global id');
  }
  const type = c.schema.getType(decoded.typename);
  if (!type || !isObjectType(type) || !isUuid(decoded.id)) decline('unplanned node type or id');
  const model = prismaModel(c, type);
  const row = new Row(model, alias(c));
  const object = objectSql(c, type, collectFields(c, type, selectionSets(nodes)), row);
  return `(select ${object} from ${table(model)} ${row.alias}${row.joinSql} where ${row.alias}."id" = ${c.params.add(decoded.id)})`;
}

function prismaModel(c: Compilation, type: GraphQLObjectType): ModelInfo {
  const name = ext(type).pothosPrismaModel ?? decline(`${type.name} is not a Prisma object`);
  if (ext(type).pothosOptions?.authScopes) decline(`${type.name} has auth scopes`);
  return c.models.get(name) ?? decline(`no model ${name}`);
}

const alias = (c: Compilation) => `t${++c.aliases}`;

function buildObject(entries: [string, string][]): string {
  // json_build_object takes at most 100 arguments.
  if (entries.length > 50) decline('more than 50 fields in one object');
  return `json_build_object(${entries.map(([key, value]) => `${nameLiteral(key)}, ${value}`).join(', ')})`;
}

/** The JSON object of one row for a selection on its GraphQL type. */
function objectSql(c: Compilation, type: GraphQLObjectType, fields: Fields, row: Row): string {
  const entries: [string, string][] = [];
  for (const [key, nodes] of fields) {
    const name = nodes[0]!.name.value;
    if (name === '__typename') {
      entries.push([key, nameLiteral(type.name)]);
      continue;
    }
    const field = type.getFields()[name] ?? decline(`no field ${type.name}.${name}`);
    const { pothosOptions, pothosExposedField, pothosPrismaRelationField: relation } = ext(field);
    if (pothosOptions?.authScopes) decline(`${type.name}.${name} has auth scopes`);
    if (name === 'id' && type.getInterfaces().some((i) => i.name === 'Node')) {
      entries.push([key, base64(`${type.name}:`, row.column('id'))]);
    } else if (pothosExposedField) {
      entries.push([key, columnSql(row, pothosExposedField, isNonNullType(field.type))]);
    } else if (relation && !relation.isList) {
      if (isNonNullType(field.type)) decline('non-null relation');
      entries.push([key, toOneSql(c, row, relation, getNamedType(field.type) as GraphQLObjectType, nodes)]);
    } else if (relation) {
      const planned = plannedRelationOf(type.name, name) ?? decline(`${type.name}.${name} is not planned`);
      const child = c.models.get(relation.type) ?? decline(`no model ${relation.type}`);
      const foreignKey = referencing(c, child, relation.relationName);
      entries.push([
        key,
        connectionSql(c, getNamedType(field.type) as GraphQLObjectType, nodes, getArgumentValues(field, nodes[0]!, c.variables), {
          model: child,
          where: (page) => [`${page.column(foreignKey)} = ${row.column('id')}`],
          ...planned,
        }),
      ]);
    } else {
      decline(`${type.name}.${name} has its own resolver`);
    }
  }
  return buildObject(entries);
}

function columnSql(row: Row, fieldName: string, nonNull: boolean): string {
  const field = row.model.fields.get(fieldName) ?? decline(`no field ${fieldName}`);
  // A null in a non-null field is the resolver's error to raise.
  if (nonNull && !field.isRequired) decline(`${fieldName} may be null`);
  if (field.isList) decline('list column');
  const column = row.column(fieldName);
  if (field.kind === 'enum') return column;
  switch (field.type) {
    case 'String':
    case 'Int':
    case 'Float':
    case 'Boolean':
    case 'Json':
      return column;
    case 'DateTime':
      return isoTime(column);
    default:
      return decline(`${field.type} columns`);
  }
}

/** The foreign key of `model` that points at the `id` of the other side of `relationName`. */
function referencing(c: Compilation, model: ModelInfo, relationName: string): string {
  const relation = [...model.fields.values()].find((f) => f.relationName === relationName && f.relationFromFields?.length);
  const parent = relation && c.models.get(relation.type);
  const key = parent && keyReferencingId(relation.relationFromFields ?? [], parent);
  return key ?? decline(`foreign key of ${relationName}`);
}

/**
 * Composite foreign keys repeat the tenant column on both sides (tenant_id, project_id) ->
 * (tenant_id, id); the one field the target does not have is the one that references its id.
 * tests/api/planned-reads.test.ts checks this against every @relation of the Prisma schema.
 */
export function keyReferencingId(fromFields: readonly string[], target: ModelInfo): string | undefined {
  const keys = fromFields.filter((name) => !target.fields.has(name));
  return keys.length === 1 ? keys[0] : undefined;
}

/** A to-one relation, left-joined in its row's FROM clause: null when there is no row or the caller may not see it. */
function toOneSql(c: Compilation, row: Row, relation: { name: string; type: string; relationName: string }, type: GraphQLObjectType, nodes: FieldNode[]): string {
  const model = prismaModel(c, type);
  const key = keyReferencingId(row.model.fields.get(relation.name)?.relationFromFields ?? [], model);
  if (!key) decline(`foreign key of ${row.model.name}.${relation.name}`);
  const target = new Row(model, alias(c), row.joins);
  // Added before the target's own relations, whose joins refer to its alias.
  row.joins.push(`left join ${table(model)} ${target.alias} on ${target.alias}."id" = ${row.column(key)}`);
  const object = objectSql(c, type, collectFields(c, type, selectionSets(nodes)), target);
  return `case when ${target.alias}."id" is null then null else ${object} end`;
}

/** Tables are named with their schema, whatever the session's search_path. */
const table = (model: ModelInfo) => `"public".${ident(model.table)}`;

interface ConnectionSource {
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
function connectionSql(c: Compilation, type: GraphQLObjectType, nodes: FieldNode[], args: Record<string, unknown>, source: ConnectionSource): string {
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
  for (const [key, fieldNodes] of collectFields(c, type, selectionSets(nodes))) {
    const name = fieldNodes[0]!.name.value;
    readsPage ||= name === 'edges' || name === 'pageInfo';
    if (name === '__typename') entries.push([key, nameLiteral(type.name)]);
    else if (name === 'totalCount') {
      const counted = new Row(source.model, alias(c));
      const where = source.where(counted);
      entries.push([key, `(select count(*) from ${from} ${counted.alias}${where.length ? ` where ${where.join(' and ')}` : ''})::int`]);
    } else if (name === 'edges') {
      const edgeType = getNamedType(type.getFields().edges!.type) as GraphQLObjectType;
      entries.push([key, `coalesce(to_json((${agg(edgeSql(c, edgeType, fieldNodes, page, cursor))})[1:${limit}]), '[]'::json)`]);
    } else if (name === 'pageInfo') {
      const info = getNamedType(type.getFields().pageInfo!.type) as GraphQLObjectType;
      const parts: [string, string][] = [];
      for (const [infoKey, infoNodes] of collectFields(c, info, selectionSets(fieldNodes))) {
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

function edgeSql(c: Compilation, type: GraphQLObjectType, nodes: FieldNode[], page: Row, cursor: string): string {
  const entries: [string, string][] = [];
  for (const [key, fieldNodes] of collectFields(c, type, selectionSets(nodes))) {
    const name = fieldNodes[0]!.name.value;
    if (name === '__typename') entries.push([key, nameLiteral(type.name)]);
    else if (name === 'cursor') entries.push([key, cursor]);
    else if (name === 'node') {
      const nodeType = getNamedType(type.getFields().node!.type) as GraphQLObjectType;
      if (prismaModel(c, nodeType) !== page.model) decline('edge node of another model');
      entries.push([key, objectSql(c, nodeType, collectFields(c, nodeType, selectionSets(fieldNodes)), page)]);
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

const selectionSets = (nodes: FieldNode[]) => nodes.flatMap((node) => (node.selectionSet ? [node.selectionSet] : []));

/** graphql-js's field collection: fragments that apply to the type, @skip and @include honoured. */
function collectFields(c: Compilation, type: GraphQLObjectType, sets: readonly SelectionSetNode[], into: Fields = new Map()): Fields {
  for (const set of sets) {
    for (const selection of set.selections) {
      if (!included(c, selection)) continue;
      if (selection.kind === Kind.FIELD) {
        const key = selection.alias?.value ?? selection.name.value;
        const list = into.get(key);
        if (list) list.push(selection);
        else into.set(key, [selection]);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        if (!selection.typeCondition || applies(c, type, selection.typeCondition.name.value)) {
          collectFields(c, type, [selection.selectionSet], into);
        }
      } else {
        const fragment = c.fragments[selection.name.value] ?? decline('unknown fragment');
        if (applies(c, type, fragment.typeCondition.name.value)) collectFields(c, type, [fragment.selectionSet], into);
      }
    }
  }
  return into;
}

function applies(c: Compilation, type: GraphQLObjectType, condition: string): boolean {
  if (condition === type.name) return true;
  const abstract = c.schema.getType(condition);
  return !!abstract && isAbstractType(abstract) && c.schema.isSubType(abstract, type);
}

function included(c: Compilation, node: { directives?: readonly unknown[] } & Parameters<typeof getDirectiveValues>[1]): boolean {
  if (!node.directives?.length) return true;
  if (getDirectiveValues(GraphQLSkipDirective, node, c.variables)?.if === true) return false;
  return getDirectiveValues(GraphQLIncludeDirective, node, c.variables)?.if !== false;
}

