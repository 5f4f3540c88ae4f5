import { EnvelopArmor } from '@escape.tech/graphql-armor';
import { type GraphQLError, Kind, type ValidationRule, type ValueNode } from 'graphql';
import { EMBEDDING_DIMENSIONS } from '../ai/provider.ts';
import type { Plugin } from 'graphql-yoga';
import { type ErrorCode, refuse } from '../errors.ts';
import type { RequestScope } from '../observability/request-scope.ts';
import { operationCost } from './cost.ts';

/** What one operation may ask for; every limit is refused before any of its SQL runs. */
export interface QueryLimits {
  /** Nesting depth of selections; introspection is exempt. */
  maxDepth: number;
  /** Estimated cost: each field 1, large text and JSON more, page sizes (`first`/`last`) and list arguments multiply what is below them. */
  maxCost: number;
  maxAliases: number;
  maxDirectives: number;
  /** Tokens in the document (names, punctuation, values). */
  maxTokens: number;
  /** Items in any list argument, literal or variable (`nodes(ids:)`, list inputs). */
  maxListLength: number;
}

/** Request bodies past this many bytes are refused (yoga's own limit: at once by Content-Length, else while streaming). */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export const DEFAULT_QUERY_LIMITS: QueryLimits = {
  maxDepth: 12,
  maxCost: 10_000,
  maxAliases: 30,
  maxDirectives: 20,
  maxTokens: 2_000,
  maxListLength: 100,
};

// Armor's protections throw or report plain GraphQLErrors; the code and status make them stable.
const coded = (code: ErrorCode) => (_context: unknown, error: GraphQLError) => {
  Object.assign(error.extensions as Record<string, unknown>, { code, http: { status: 400 } });
};

/** Depth, aliases, directives and tokens (GraphQL Armor); list lengths and cost. */
export function useQueryLimits(limits: QueryLimits): Plugin[] {
  const armor = new EnvelopArmor({
    maxDepth: { n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true, onReject: [coded('QUERY_TOO_DEEP')] },
    maxAliases: { n: limits.maxAliases, onReject: [coded('TOO_MANY_ALIASES')] },
    maxDirectives: { n: limits.maxDirectives, onReject: [coded('TOO_MANY_DIRECTIVES')] },
    maxTokens: { n: limits.maxTokens, onReject: [coded('TOO_MANY_TOKENS')] },
    // The cost below multiplies by page sizes, which Armor's cost limit cannot see.
    costLimit: { enabled: false },
    // Suggestions would spell out the schema to someone probing it with typos.
    blockFieldSuggestion: { enabled: true },
  });
  return [...(armor.protect().plugins as Plugin[]), useListLengthLimit(limits.maxListLength), useCostLimit(limits.maxCost)];
}

function listTooLong(limit: number, length: number, where: string): GraphQLError {
  return refuse(400, 'LIST_TOO_LONG', `${where}: expected at most ${limit} items in a list, received ${length}`);
}

/**
 * An embedding (search's `vector`) is a flat list of EMBEDDING_DIMENSIONS numbers: it fans out
 * no work, so a list of numbers only may be that long whatever the list limit.
 */
const isVectorSized = (values: readonly unknown[], isNumber: (value: unknown) => boolean) =>
  values.length <= EMBEDDING_DIMENSIONS && values.every(isNumber);

/** The longest array anywhere in a JSON value (an embedding-sized list of numbers counts as none). */
function longestList(value: unknown): number {
  if (Array.isArray(value)) {
    if (isVectorSized(value, (item) => typeof item === 'number')) return 0;
    return Math.max(value.length, ...value.map(longestList));
  }
  if (value && typeof value === 'object') return Math.max(0, ...Object.values(value).map(longestList));
  return 0;
}

/** Literal lists in the document are checked with validation (cached with it); variables before execution. */
function useListLengthLimit(limit: number): Plugin {
  const literalLists: ValidationRule = (context) => ({
    ListValue(node) {
      if (node.values.length > limit && !isVectorSized(node.values, (item) => (item as ValueNode).kind === Kind.FLOAT || (item as ValueNode).kind === Kind.INT)) {
        context.reportError(listTooLong(limit, node.values.length, 'a list in the document'));
      }
    },
  });
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(literalLists);
    },
    onParams({ params }) {
      const longest = longestList(params.variables);
      if (longest > limit) throw listTooLong(limit, longest, 'a list in the variables');
    },
  };
}

/**
 * The operation's estimated cost (src/limits/cost.ts): above the limit it is refused whole,
 * before its first resolver and so before any of its SQL.
 */
function useCostLimit(limit: number): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const cost = operationCost(args.schema, args.document, args.operationName, args.variableValues as Record<string, unknown>);
      const scope = (args.contextValue as { scope?: RequestScope }).scope;
      if (scope) scope.cost = cost;
      if (cost > limit) {
        setResultAndStopExecution({
          errors: [
            refuse(
              400,
              'QUERY_TOO_COMPLEX',
              `the operation would cost ${cost}, more than the limit of ${limit}; ask for smaller pages (first/last) or fewer nested lists`,
            ),
          ],
        });
      }
    },
  };
}
