import type { FieldNode, FragmentDefinitionNode, GraphQLObjectType, GraphQLSchema, SelectionSetNode } from 'graphql';
import { collectFields, collectSubFields } from '@graphql-tools/utils';
import type { GatewayContext } from '../../session/context.ts';
import { decline, ident, type ModelInfo, nameLiteral, type Params } from './sql.ts';

/** What compiling one operation carries along: the schema, the request, the statement being built. */
export interface Compilation {
  schema: GraphQLSchema;
  models: Map<string, ModelInfo>;
  fragments: Record<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
  params: Params;
  ctx: GatewayContext;
  aliases: number;
  /**
   * Objects may read only their own columns. A statement that writes a row cannot read what
   * its own triggers changed elsewhere (one snapshot), so a written row's relations decline.
   */
  columnsOnly?: boolean;
}

/** A selection set's fields by response key, as graphql-js collects them. */
export type Fields = Map<string, FieldNode[]>;

/** What Pothos and its plugins record on the schema's types and fields. */
export interface Extensions {
  pothosOptions?: { authScopes?: unknown; validate?: unknown };
  pothosExposedField?: string;
  pothosPrismaModel?: string;
  pothosPrismaRelationField?: { name: string; type: string; isList: boolean; relationName: string };
}

export const ext = (thing: { extensions?: unknown }) => (thing.extensions ?? {}) as Extensions;

/** An operation's root fields on `type`: graphql-js's collection, fragments and @skip/@include included. */
export function rootFields(c: Compilation, type: GraphQLObjectType, selectionSet: SelectionSetNode): Fields {
  return withoutDefer(collectFields(c.schema, c.fragments, c.variables, type, selectionSet));
}

/** The fields selected below `nodes` on `type`, collected the same way. */
export function subfields(c: Compilation, type: GraphQLObjectType, nodes: FieldNode[]): Fields {
  return withoutDefer(collectSubFields(c.schema, c.fragments, c.variables, type, nodes));
}

function withoutDefer({ fields, patches }: { fields: Fields; patches: unknown[] }): Fields {
  if (patches.length) decline('@defer');
  return fields;
}

export const alias = (c: Compilation) => `t${++c.aliases}`;

/** Tables are named with their schema, whatever the session's search_path. */
export const table = (model: ModelInfo) => `"public".${ident(model.table)}`;

export function buildObject(entries: [string, string][]): string {
  // json_build_object takes at most 100 arguments.
  if (entries.length > 50) decline('more than 50 fields in one object');
  return `json_build_object(${entries.map(([key, value]) => `${nameLiteral(key)}, ${value}`).join(', ')})`;
}

/** The Prisma model behind a GraphQL object type; types guarded by auth scopes are left to scope-auth. */
export function prismaModel(c: Compilation, type: GraphQLObjectType): ModelInfo {
  const name = ext(type).pothosPrismaModel ?? decline(`${type.name} is not a Prisma object`);
  if (ext(type).pothosOptions?.authScopes) decline(`${type.name} has auth scopes`);
  return c.models.get(name) ?? decline(`no model ${name}`);
}
