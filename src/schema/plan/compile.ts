import {
  type FieldNode,
  type FragmentDefinitionNode,
  getArgumentValues,
  getNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  isNonNullType,
  isObjectType,
  type OperationDefinitionNode,
} from 'graphql';
import { decodeGlobalID } from '@pothos/plugin-relay';
import { isSignedIn } from '../../session/claims.ts';
import type { GatewayContext } from '../../session/context.ts';
import { alias, buildObject, type Compilation, ext, type Fields, prismaModel, rootFields, subfields, table } from './compilation.ts';
import { connectionSql } from './connection.ts';
import { plannableInput } from './filter.ts';
import { plannedList, plannedRelationOf } from './registry.ts';
import { base64, decline, isoTime, isUuid, type ModelInfo, nameLiteral, Params, Row, whereSql } from './sql.ts';

/** One statement answering a whole operation: its text and parameters. */
export interface Plan {
  sql: string;
  params: unknown[];
  /**
   * The statement writes and takes no parameters: it runs as a transaction of its own
   * (RequestTransaction.only), and a refusal sends the operation to field-by-field execution.
   */
  write?: true;
}

/**
 * Compiles a query operation (use-planned-reads.ts hands over queries only) into one SQL statement that returns the response's `data` as JSON,
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
): Promise<Plan> {
  const query = schema.getQueryType()!;
  const c: Compilation = { schema, models, fragments, variables, params: new Params(), ctx, aliases: 0 };
  const entries: [string, string][] = [];
  for (const [key, nodes] of rootFields(c, query, operation.selectionSet)) {
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
  if (list.signedIn && !isSignedIn(c.ctx.claims)) decline('signed out');
  const model = c.models.get(list.model) ?? decline(`no model ${list.model}`);
  const connection = getNamedType(field.type) as GraphQLObjectType;
  const filter = args.filter == null ? null : await plannableInput(field.args.find((arg) => arg.name === 'filter')!.type, args.filter);
  let where: object;
  try {
    where = await list.where(filter, c.ctx);
  } catch {
    // The filter or the caller is refused: the resolver says so in its own words.
    return decline('where refused');
  }
  const source = {
    model,
    where: (row: Row) => whereSql(where, row, c.params),
    orderBy: list.orderBy(args.orderBy as string, args.direction as 'ASC' | 'DESC'),
    defaultSize: list.defaultSize,
    maxSize: list.maxSize,
  };
  return connectionSql(c, connection, nodes, args, source, objectSql);
}

const isOnlySignedIn = (scopes: unknown) =>
  typeof scopes === 'object' && scopes !== null && Object.keys(scopes).length === 1 && (scopes as { signedIn?: unknown }).signedIn === true;

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
  const object = objectSql(c, type, subfields(c, type, nodes), row);
  return `(select ${object} from ${table(model)} ${row.alias}${row.joinSql} where ${row.alias}."id" = ${c.params.add(decoded.id)})`;
}

/** The JSON object of one row for a selection on its GraphQL type. */
export function objectSql(c: Compilation, type: GraphQLObjectType, fields: Fields, row: Row): string {
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
    } else if (relation && c.columnsOnly) {
      decline(`${type.name}.${name}: a written row's relations are read after the write`);
    } else if (relation && !relation.isList) {
      if (isNonNullType(field.type)) decline('non-null relation');
      entries.push([key, toOneSql(c, row, relation, getNamedType(field.type) as GraphQLObjectType, nodes)]);
    } else if (relation) {
      const planned = plannedRelationOf(type.name, name) ?? decline(`${type.name}.${name} is not planned`);
      const child = c.models.get(relation.type) ?? decline(`no model ${relation.type}`);
      const foreignKey = referencing(c, child, relation.relationName);
      entries.push([
        key,
        connectionSql(
          c,
          getNamedType(field.type) as GraphQLObjectType,
          nodes,
          getArgumentValues(field, nodes[0]!, c.variables),
          { model: child, where: (page) => [`${page.column(foreignKey)} = ${row.column('id')}`], ...planned },
          objectSql,
        ),
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
  const object = objectSql(c, type, subfields(c, type, nodes), target);
  return `case when ${target.alias}."id" is null then null else ${object} end`;
}
