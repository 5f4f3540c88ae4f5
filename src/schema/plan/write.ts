import {
  getArgumentValues,
  getNamedType,
  type GraphQLField,
  type GraphQLObjectType,
  isInputObjectType,
  isObjectType,
  isUnionType,
} from 'graphql';
import { compileOperation, objectSql } from './compile.ts';
import { alias, buildObject, type Compilation, ext, prismaModel, rootFields, subfields, table } from './compilation.ts';
import { plannableInput } from './filter.ts';
import { plannedUpdateOf, type UpdateWrite } from './registry.ts';
import { decline, ident, isUuid, type ModelInfo, nameLiteral, Params, Row } from './sql.ts';

/**
 * Compiles an operation of one registered update mutation (registry.ts, plannedUpdate) into one
 * statement: the UPDATE … RETURNING as a CTE, and the payload's JSON built from the row it
 * returns, exactly as the resolver's Prisma update and the errors plugin's success type would
 * answer. It runs in the request's transaction as the caller, so row-level security, the
 * tables' triggers and constraints judge the write as they judge Prisma's. The statement
 * returns no row when the caller may not update the row (or it does not exist): the plugin then
 * rolls back and runs the mutation field by field, so the resolver reports why in its own words.
 * Values are written as literals: the statement travels in one script with BEGIN, the claims
 * and COMMIT (RequestTransaction.only), so the row is locked for one round trip, not three.
 */
export const compileUpdate: typeof compileOperation = async (schema, models, operation, fragments, variables, ctx) => {
  const mutation = schema.getMutationType() ?? decline('no mutation type');
  const c: Compilation = { schema, models, fragments, variables, params: new Params(true), ctx, aliases: 0, columnsOnly: true };
  const roots = [...rootFields(c, mutation, operation.selectionSet)];
  if (roots.length !== 1) decline('not one mutation field');
  const [key, nodes] = roots[0]!;
  const name = nodes[0]!.name.value;
  const update = plannedUpdateOf(name) ?? decline(`${name} is not planned`);
  const field = mutation.getFields()[name] ?? decline(`no field ${name}`);
  if (ext(field).pothosOptions?.authScopes) decline(`${name} has auth scopes`);
  const args = await plannableArgs(field, getArgumentValues(field, nodes[0]!, variables));
  let write: UpdateWrite;
  try {
    write = update.write(args, ctx);
  } catch {
    // Refused before any write (no caller, nothing to change): the resolver says so in its own words.
    return decline('write refused');
  }
  if (!isUuid(write.id)) decline('row id');
  const model = c.models.get(update.model) ?? decline(`no model ${update.model}`);

  // The payload first: the CTE returns only the columns it reads.
  const { type: success, dataField } = successType(field);
  const entries: [string, string][] = [];
  const row = new Row(model, alias(c));
  for (const [successKey, successNodes] of subfields(c, success, nodes)) {
    const selected = successNodes[0]!.name.value;
    if (selected === '__typename') entries.push([successKey, nameLiteral(success.name)]);
    else if (selected === dataField.name) {
      const type = getNamedType(dataField.type) as GraphQLObjectType;
      if (prismaModel(c, type) !== model) decline(`${success.name}.${selected} is not the written model`);
      entries.push([successKey, objectSql(c, type, subfields(c, type, successNodes), row)]);
    } else decline(`${success.name}.${selected}`);
  }
  const id = c.params.add(write.id);
  const sets = Object.entries(write.data)
    .filter(([, value]) => value !== undefined)
    .map(([fieldName, value]) => `${ident(column(model, fieldName))} = ${settable(c.params, value)}`);
  if (sets.length === 0) decline('nothing to set');
  const returning = [...new Set([column(model, 'id'), ...row.used])].map(ident);
  return {
    sql:
      `with ${row.alias} as (update ${table(model)} set ${sets.join(', ')} where ${ident(column(model, 'id'))} = ${id} returning ${returning.join(', ')}) ` +
      `select ${buildObject([[key, buildObject(entries)]])}::text as data from ${row.alias}`,
    params: c.params.values,
    write: true,
  };
};

/** The arguments as the resolver receives them: input objects validated as Pothos validates them; anything else declines. */
async function plannableArgs(field: GraphQLField<unknown, unknown>, values: Record<string, unknown>): Promise<Record<string, unknown>> {
  const args: Record<string, unknown> = {};
  for (const arg of field.args) {
    const value = values[arg.name];
    if (ext(arg).pothosOptions?.validate) decline(`argument ${arg.name} is validated`);
    if (value == null) args[arg.name] = value;
    else if (isInputObjectType(getNamedType(arg.type))) args[arg.name] = await plannableInput(arg.type, value);
    else decline(`argument ${arg.name}`);
  }
  return args;
}

/** The errors plugin's success member of the field's result union, and its field holding the data. */
function successType(field: GraphQLField<unknown, unknown>) {
  const result = getNamedType(field.type);
  const name = (ext(field).pothosOptions as { errors?: { dataField?: { name?: string } } } | undefined)?.errors?.dataField?.name;
  if (!isUnionType(result) || !name) return decline(`${field.name} has no result union`);
  for (const member of result.getTypes()) {
    const dataField = member.getFields()[name];
    if (isObjectType(member) && dataField && isObjectType(getNamedType(dataField.type))) return { type: member, dataField };
  }
  return decline(`${field.name} has no success type`);
}

function column(model: ModelInfo, field: string): string {
  const info = model.fields.get(field);
  if (!info || info.kind === 'object' || info.isList) decline(`${model.name}.${field} is not a column`);
  return model.columns.get(field) ?? decline(`${model.name}.${field} has no column`);
}

/** A value to set: PostgreSQL types the parameter from its column (text, enum, boolean, timestamp). */
function settable(params: Params, value: unknown): string {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return params.add(value);
  if (typeof value === 'number' && Number.isFinite(value)) return params.add(value);
  if (value instanceof Date) return params.add(value.toISOString());
  return decline('value to set');
}
