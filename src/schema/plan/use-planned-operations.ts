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
import { compileOperation, type Plan } from './compile.ts';
import { type ModelInfo, modelsOf, type RuntimeDataModel, Unplannable } from './sql.ts';
import { compileUpdate } from './write.ts';
import { plannedUpdateOf } from './registry.ts';
import { isDatabaseUnavailable, toDomainError } from '../../errors.ts';

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

export interface PlannedOperationsOptions {
  /** Query operations (compile.ts); on unless false. */
  reads?: boolean;
  /** Operations of one registered update mutation (write.ts); on unless false. */
  writes?: boolean;
  /** Called with the reason an operation was left to field-by-field execution (for logs and tests). */
  onDeclined?: (reason: string) => void;
}

/**
 * Answers an operation with one SQL statement when the planner can compile all of it: a query
 * (src/schema/plan/compile.ts), or one update mutation (write.ts). Any other operation runs
 * field by field through Pothos and Prisma as before. The statement runs in the request's
 * transaction, as the caller.
 */
export function usePlannedOperations(prisma: PrismaClient, options: PlannedOperationsOptions = {}): Plugin<GatewayContext> {
  const compilers = {
    query: options.reads === false ? undefined : compileOperation,
    mutation: options.writes === false ? undefined : compileUpdate,
    subscription: undefined,
  };
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
    const compile = operation && compilers[operation.operation];
    if (!compile) return execute(args);
    // Most mutations are not planned: they leave before any variable is coerced or field collected.
    if (operation.operation === 'mutation' && !operation.selectionSet.selections.some((s) => s.kind === Kind.FIELD && plannedUpdateOf(s.name.value))) {
      return execute(args);
    }
    const variables = getVariableValues(args.schema, operation.variableDefinitions ?? [], args.variableValues ?? {});
    if (variables.errors) return execute(args);
    const fragments: Record<string, FragmentDefinitionNode> = {};
    for (const definition of args.document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
    }
    const ctx = args.contextValue as GatewayContext;
    let plan: Plan;
    try {
      plan = await compile(args.schema, modelsOfPrisma(), operation, fragments, variables.coerced, ctx);
    } catch (error) {
      if (!(error instanceof Unplannable)) throw error;
      options.onDeclined?.(error.reason);
      return execute(args);
    }
    try {
      const [row] = plan.write
        ? await ctx.transaction.only<{ data: string }>(plan.sql)
        : await ctx.transaction.query<{ data: string }>(plan.sql, plan.params);
      if (row) return jsonResult(row.data);
      // A write that found no row it may update: the resolver tells the caller why.
      await ctx.transaction.restart();
      return execute(args);
    } catch (error) {
      if (plan.write && !outOfTime(error)) {
        // Refused by the database (a policy, a trigger, a constraint): undone, then run field by
        // field, so the caller gets the resolver's error, in the result union, in its words.
        await ctx.transaction.restart();
        return execute(args);
      }
      // As a failing root field would: data is null (every root field is non-null or a lookup).
      const first = operation.selectionSet.selections.find((selection) => selection.kind === Kind.FIELD);
      const path = first ? [first.alias?.value ?? first.name.value] : undefined;
      return { data: null, errors: [locatedError(error, first ? [first] : undefined, path)] };
    }
  }
}

/** Errors a second attempt would only repeat, slower: the statement timed out, or the database is gone. */
function outOfTime(error: unknown): boolean {
  return isDatabaseUnavailable(error) || toDomainError(error)?.code === 'TIMEOUT';
}
