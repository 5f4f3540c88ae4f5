import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLOutputType,
  type GraphQLSchema,
  getArgumentValues,
  getNamedType,
  getOperationAST,
  getVariableValues,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  type SelectionSetNode,
} from 'graphql';

/** Page size a connection is charged for when it names none (the schema's default page). */
export const DEFAULT_PAGE = 20;
/** Multiplier of lists that take no size argument (a tenant's settings, a subscription's usage). */
const SMALL_LIST = 10;
/** Characters of large text one unit of cost stands for. */
const CHARS_PER_COST = 2_000;

/** The cost of a text field that may hold up to maxChars characters, for its `extensions.cost`. */
export const textCost = (maxChars: number) => Math.max(1, Math.ceil(maxChars / CHARS_PER_COST));

/** Every JSON column holds at most 64 KiB (20251124001100_bounded_values.sql). */
const JSON_COST = textCost(64 * 1024);

const listOf = (type: GraphQLOutputType): boolean => (isNonNullType(type) ? listOf(type.ofType) : isListType(type));

/**
 * What selecting a field costs and what it multiplies below it: 1, or what the largest value it may
 * hold stands for (one per 2,000 characters: JSON at its 64 KiB bound, large text through its own
 * `extensions.cost`), so the cost of an operation bounds the bytes it reads. A connection multiplies by
 * the page it asks for (`first`/`last`, else the default page), and its `edges` then count once per
 * page, not again; a list argument such as `nodes(ids:)` multiplies by its length.
 */
function fieldCost(field: GraphQLField<unknown, unknown>, args: Record<string, unknown>) {
  const named = getNamedType(field.type).name;
  const declared = field.extensions?.cost;
  const own = typeof declared === 'number' ? declared : named === 'JSON' ? JSON_COST : 1;
  if (named.endsWith('Connection')) {
    const page = typeof args.first === 'number' ? args.first : typeof args.last === 'number' ? args.last : DEFAULT_PAGE;
    return { own, multiplier: Math.max(page, 0) };
  }
  if (!listOf(field.type)) return { own, multiplier: 1 };
  if (named.endsWith('Edge')) return { own, multiplier: 1 };
  const sized = Object.values(args).find(Array.isArray);
  return { own, multiplier: sized ? sized.length : SMALL_LIST };
}

/**
 * The estimated cost of the operation a request selects, from its shape and variables alone.
 * Arguments are coerced as graphql-js does, never through the schema's own validation, so an
 * invalid argument in one field (which that field reports when it runs) cannot hide the cost of
 * the others. Alternatives of a union or interface are summed, which can only over-estimate.
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  rawVariables: Record<string, unknown> | undefined,
): number {
  const operation = getOperationAST(document, operationName);
  if (!operation) return 0;
  const root = schema.getRootType(operation.operation);
  if (!root) return 0;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], rawVariables ?? {});
  // Variables that do not coerce fail the operation before it runs; count them as absent.
  const variables = coerced.coerced ?? {};

  const argumentsOf = (field: GraphQLField<unknown, unknown>, node: FieldNode): Record<string, unknown> => {
    try {
      return getArgumentValues(field, node, variables);
    } catch {
      return {};
    }
  };

  const selectionCost = (set: SelectionSetNode, type: GraphQLNamedType, spreading: Set<string>): number => {
    let total = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        // Introspection reads the schema held in memory, not the database.
        if (selection.name.value.startsWith('__')) continue;
        const field = isObjectType(type) || isInterfaceType(type) ? type.getFields()[selection.name.value] : undefined;
        if (!field) continue;
        const { own, multiplier } = fieldCost(field, argumentsOf(field, selection));
        const below = selection.selectionSet ? selectionCost(selection.selectionSet, getNamedType(field.type), spreading) : 0;
        total += own + multiplier * below;
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : type;
        if (condition) total += selectionCost(selection.selectionSet, condition, spreading);
      } else {
        const fragment = fragments.get(selection.name.value);
        const condition = fragment && schema.getType(fragment.typeCondition.name.value);
        // Validation refuses cycles; this guard only keeps a hostile document from recursing here first.
        if (!fragment || !condition || spreading.has(fragment.name.value)) continue;
        total += selectionCost(fragment.selectionSet, condition, new Set([...spreading, fragment.name.value]));
      }
    }
    return total;
  };

  return selectionCost(operation.selectionSet, root, new Set());
}
