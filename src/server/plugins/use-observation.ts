import { getOperationAST, type GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from '../../observability/logger.ts';
import type { GatewayMetrics } from '../../observability/metrics.ts';
import { newRequestScope, type RequestScope, requestIdFrom, runInRequestScope } from '../../observability/request-scope.ts';

const scopes = new WeakMap<Request, RequestScope>();

/** The scope of a request this plugin is observing (the context factory fills in the caller). */
export function scopeOf(request: Request): RequestScope | undefined {
  return scopes.get(request);
}

function firstErrorCode(result: unknown): string | undefined {
  const errors = (result as { errors?: readonly GraphQLError[] } | undefined)?.errors;
  const code = errors?.[0]?.extensions?.code;
  return typeof code === 'string' ? code : errors?.length ? 'INTERNAL' : undefined;
}

/**
 * One log line and one set of metrics per request: a request id (the client's x-request-id when
 * sane, else a new one, returned in the response), the operation, the caller and tenant ids
 * (never a credential), duration, SQL statements and outcome. Execution runs inside the request's
 * scope, so every statement it sends is counted against it.
 */
export function useObservation({ logger, metrics }: { logger: Logger; metrics?: GatewayMetrics }): Plugin {
  return {
    onRequest({ request }) {
      scopes.set(request, newRequestScope(requestIdFrom(request.headers.get('x-request-id'))));
    },
    onParams({ request, params }) {
      const scope = scopes.get(request);
      if (scope && typeof params.operationName === 'string') scope.operationName = params.operationName.slice(0, 100);
    },
    onExecute({ args, executeFn, setExecuteFn }) {
      const scope = (args.contextValue as { scope?: RequestScope }).scope;
      if (!scope) return;
      const operation = getOperationAST(args.document, args.operationName);
      scope.operationType = operation?.operation;
      scope.operationName ??= operation?.name?.value;
      setExecuteFn((executeArgs) => runInRequestScope(scope, () => executeFn(executeArgs)));
    },
    onResultProcess({ request, result }) {
      const scope = scopes.get(request);
      if (scope && !Array.isArray(result)) scope.errorCode ??= firstErrorCode(result);
    },
    onResponse({ request, response }) {
      const scope = scopes.get(request);
      if (!scope) return;
      response.headers.set('x-request-id', scope.id);
      const url = new URL(request.url);
      // Health checks and static files are not requests anyone needs a line for.
      if (url.pathname !== '/graphql' || (request.method === 'GET' && !url.searchParams.has('query'))) return;
      const durationMs = Math.round((performance.now() - scope.startedAt) * 10) / 10;
      metrics?.observe(scope, durationMs / 1000);
      const line = {
        reqId: scope.id,
        method: request.method,
        status: response.status,
        operation: scope.operationName ?? null,
        operationType: scope.operationType ?? null,
        caller: scope.callerId ?? null,
        via: scope.via ?? 'anonymous',
        tenant: scope.tenantId ?? null,
        durationMs,
        statements: scope.statements,
        cost: scope.cost ?? null,
        outcome: scope.errorCode ?? 'ok',
      };
      if (scope.errorCode === 'INTERNAL') logger.error(line, 'request failed');
      else if (response.status >= 500) logger.warn(line, 'request not served');
      else logger.info(line, 'request');
    },
  };
}
