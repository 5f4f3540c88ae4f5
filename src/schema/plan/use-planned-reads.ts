import {
  type ExecutionArgs,
  type ExecutionResult,
  type FragmentDefinitionNode,
  getOperationAST,
  getVariableValues,
  Kind,
  locatedError,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GatewayContext } from '../../session/context.ts';
import type { PrismaClient } from '../../db/prisma.ts';
import { compileOperation } from './compile.ts';
import { type ModelInfo, modelsOf, type RuntimeDataModel, Unplannable } from './sql.ts';

/**
 * The result as the database wrote it: yoga sends `stringify()`'s text as the body (see its
 * result processor), so the JSON is neither parsed nor written again; `data` is parsed only if
 * some plugin reads it.
 */
function jsonResult(json: string): ExecutionResult {
  let data: Record<string, unknown> | undefined;
  return {
    get data() {
      return (data ??= JSON.parse(json) as Record<string, unknown>);
    },
    stringify: () => `{"data":${json}}`,
  } as ExecutionResult;
}

export interface PlannedReadsOptions {
  /** Called with the reason an operation was left to field-by-field execution (for logs and tests). */
  onDeclined?: (reason: string) => void;
}

/**
 * Answers a query operation with one SQL statement when the planner can compile all of it
 * (src/schema/plan/compile.ts); any other operation runs field by field through Pothos and
 * Prisma as before. The statement runs in the request's transaction, as the caller.
 */
export function usePlannedReads(prisma: PrismaClient, options: PlannedReadsOptions = {}): Plugin<GatewayContext> {
  let models: Map<string, ModelInfo> | undefined;
  // Prisma's own record of table and column names (@@map, @map), read on first use.
  const modelsOfPrisma = () => {
    const runtime = (prisma as unknown as { _runtimeDataModel?: RuntimeDataModel })._runtimeDataModel;
    if (!runtime?.models) throw new Error('the Prisma client exposes no runtime data model; planned reads cannot name tables');
    return (models ??= modelsOf(runtime));
  };
  return {
    onExecute({ executeFn, setExecuteFn }) {
      setExecuteFn((args: ExecutionArgs) => planned(args, executeFn as (args: ExecutionArgs) => Promise<ExecutionResult>));
    },
  };

  async function planned(args: ExecutionArgs, execute: (args: ExecutionArgs) => Promise<ExecutionResult>): Promise<ExecutionResult> {
    const operation = getOperationAST(args.document, args.operationName);
    if (operation?.operation !== 'query') return execute(args);
    const variables = getVariableValues(args.schema, operation.variableDefinitions ?? [], args.variableValues ?? {});
    if (variables.errors) return execute(args);
    const fragments: Record<string, FragmentDefinitionNode> = {};
    for (const definition of args.document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
    }
    const ctx = args.contextValue as GatewayContext;
    let plan;
    try {
      plan = await compileOperation(args.schema, modelsOfPrisma(), operation, fragments, variables.coerced, ctx);
    } catch (error) {
      if (!(error instanceof Unplannable)) throw error;
      options.onDeclined?.(error.reason);
      return execute(args);
    }
    try {
      const [row] = await ctx.transaction.query<{ data: string }>(plan.sql, plan.params);
      return jsonResult(row!.data);
    } catch (error) {
      // As a failing root field would: data is null (every root field is non-null or a lookup).
      const first = operation.selectionSet.selections.find((selection) => selection.kind === Kind.FIELD);
      const path = first ? [first.alias?.value ?? first.name.value] : undefined;
      return { data: null, errors: [locatedError(error, first ? [first] : undefined, path)] };
    }
  }
}
