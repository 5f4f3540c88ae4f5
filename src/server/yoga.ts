import type { IncomingMessage } from 'node:http';
import type { GraphQLError } from 'graphql';
import { createGraphQLError, createYoga, maskError as defaultMaskError, type Plugin, useReadinessCheck } from 'graphql-yoga';
import { isApiKey } from '../auth/api-keys.ts';
import { createAuthenticator } from '../auth/authenticate.ts';
import type { TokenVerifier } from '../auth/verifier.ts';
import { createContext, type GatewayContext } from '../session/context.ts';
import type { AiProvider } from '../ai/provider.ts';
import type { RealtimeHub } from '../realtime/hub.ts';
import type { Database } from '../db/database.ts';
import type { PrismaClient } from '../db/prisma.ts';
import type { RequestTransactionOptions } from '../session/request-transaction.ts';
import { DomainError, isDatabaseUnavailable, isErrorCode, toDomainError } from '../errors.ts';
import type { Admission } from '../limits/admission.ts';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_QUERY_LIMITS, type QueryLimits, useQueryLimits } from '../limits/query-limits.ts';
import { type Logger, silentLogger } from '../observability/logger.ts';
import type { GatewayMetrics } from '../observability/metrics.ts';
import { schema } from '../schema/index.ts';
import { usePlannedOperations } from '../schema/plan/use-planned-operations.ts';
import { renderGraphiQL, useGraphiQLAssets } from './graphiql.ts';
import { useErrorCodes } from './plugins/use-error-codes.ts';
import { scopeOf, useObservation } from './plugins/use-observation.ts';
import { useRequestTransaction } from '../session/use-request-transaction.ts';
import { useSharedEventResults } from '../realtime/shared-results.ts';

export interface GatewayOptions {
  /** The raw gateway connection: API key lookups and readiness. */
  db: Database;
  /** Prisma over the same connection; requests run in its interactive transactions. */
  prisma: PrismaClient;
  verifyToken: TokenVerifier;
  logger?: Logger;
  /** Query limits; any left out keeps its default. */
  queryLimits?: Partial<QueryLimits>;
  maxBodyBytes?: number;
  /** Statement timeout and how long a request may hold its connection. */
  timeouts?: Pick<RequestTransactionOptions, 'statementTimeoutMs' | 'timeoutMs'>;
  /** Rate limits, quotas, suspended tenants and inactive users; without it, everyone is admitted. */
  admission?: Admission;
  metrics?: GatewayMetrics;
  /** Take the client address from X-Forwarded-For (behind a proxy the gateway trusts). */
  trustProxy?: boolean;
  /** Extra plugins, such as tracing. */
  plugins?: Plugin[];
  /**
   * Answer query operations the read planner can compile with one SQL statement (default on);
   * off, every operation runs field by field. Both give the same responses.
   */
  plannedReads?: boolean;
  /**
   * Answer an operation of one registered update mutation with one UPDATE … RETURNING statement
   * (default on); off, it runs field by field. Both give the same responses.
   */
  plannedWrites?: boolean;
  /** Embeds search queries (the worker's provider); without one, only KEYWORD search works. */
  ai?: AiProvider;
  /** Realtime subscribers of this process; without it, subscriptions are refused. */
  realtime?: RealtimeHub;
  /** Headers GraphiQL starts with, e.g. a demo token in embedded development. */
  graphiqlHeaders?: Record<string, string>;
}

function credentialKind(request: Request): string {
  const bearer = request.headers.get('authorization');
  const credential = bearer ? /^Bearer\s+(\S+)/i.exec(bearer)?.[1] : undefined;
  if (request.headers.has('x-api-key') || (credential !== undefined && isApiKey(credential))) return 'api_key';
  return bearer ? 'jwt' : 'anonymous';
}

/** The address a request came from, for anonymous rate limits. */
function clientAddress(request: Request, req: IncomingMessage | undefined, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = request.headers.get('x-forwarded-for')?.split(',')[0]?.trim();
    if (forwarded) return forwarded;
  }
  return req?.socket?.remoteAddress ?? 'unknown';
}

/** The gateway as a fetch handler: tests call `yoga.fetch` with no port open. */
export function createGateway(options: GatewayOptions) {
  const { db, prisma, verifyToken, graphiqlHeaders, admission, metrics } = options;
  const logger = options.logger ?? silentLogger;
  const authenticate = createAuthenticator({ verifyToken, db, logger });
  const limits = { ...DEFAULT_QUERY_LIMITS, ...options.queryLimits };
  return createYoga<{ req?: IncomingMessage }, GatewayContext>({
    schema,
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/healthz',
    landingPage: false,
    batching: false,
    maxRequestBodySize: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    logging: {
      debug: (...args) => logger.debug({ args }, 'yoga'),
      info: (...args) => logger.info({ args }, 'yoga'),
      warn: (...args) => logger.warn({ args }, 'yoga'),
      // Yoga reports every error it masks; maskError below has already logged each at its level.
      error: (...args) => (args[0] instanceof Error ? logger.debug(`yoga masked: ${args[0].message}`) : logger.error({ args }, 'yoga')),
    },
    renderGraphiQL,
    graphiql: {
      title: 'Tenant GraphQL Gateway',
      defaultQuery: '{\n  viewer {\n    user { id email name }\n    tenant { id name slug }\n    role\n  }\n}\n',
      headers: graphiqlHeaders ? JSON.stringify(graphiqlHeaders, null, 2) : undefined,
    },
    context: async ({ request, req }) => {
      const scope = scopeOf(request);
      // Named before it is checked, so a refused credential's log line says which kind it was.
      if (scope) scope.via = credentialKind(request);
      const caller = await authenticate(request);
      if (scope) {
        scope.via = caller.via;
        scope.callerId = caller.keyId ?? caller.claims.sub;
        const tenant = caller.claims.app_metadata?.tenant_id;
        scope.tenantId = typeof tenant === 'string' ? tenant : undefined;
      }
      await admission?.(caller, clientAddress(request, req, options.trustProxy ?? false));
      return createContext(prisma, caller, { ...options.timeouts, begin: db.begin, once: db.once, scope, ai: options.ai, realtime: options.realtime });
    },
    // Domain errors reach the client with their code; anything else is an opaque INTERNAL.
    maskedErrors: {
      maskError(error, message, isDev) {
        const original = isGraphQLError(error) ? error.originalError : error;
        // Domain errors, and database refusals that have a code of their own (a statement timeout is TIMEOUT).
        const domain = original instanceof DomainError ? original : toDomainError(original);
        if (domain) return createGraphQLError(domain.message, { extensions: { code: domain.code } });
        // Refusals made as GraphQL errors (authentication, limits) already say what they are.
        if (isGraphQLError(error) && !original && isErrorCode(error.extensions?.code)) return error;
        // Pothos refuses a malformed or wrong-type global id with this; the message names both.
        if (original instanceof Error && original.name === 'PothosValidationError') {
          return createGraphQLError(original.message, { extensions: { code: 'VALIDATION_FAILED' } });
        }
        if (isDatabaseUnavailable(original ?? error)) {
          logger.warn({ err: original ?? error }, 'database unavailable');
          return createGraphQLError('the database cannot be reached; retry later', {
            extensions: { code: 'DATABASE_UNAVAILABLE', http: { status: 503 } },
          });
        }
        // The client sees only a generic message; operators need the cause, under the request id.
        logger.error({ err: original ?? error }, 'unexpected error');
        const masked = defaultMaskError(error, message, isDev);
        const code = isGraphQLError(masked) ? masked.extensions.code : undefined;
        return isGraphQLError(masked) && (!code || code === 'INTERNAL_SERVER_ERROR')
          ? createGraphQLError(masked.message, { extensions: { ...masked.extensions, code: 'INTERNAL' } })
          : masked;
      },
    },
    plugins: [
      // First, so that the plugins after it (the request's scope, tracing) wrap the planned execution too.
      usePlannedOperations(prisma, {
        reads: options.plannedReads,
        writes: options.plannedWrites,
        onDeclined: (reason) => logger.debug({ reason }, 'operation not planned'),
      }),
      useObservation({ logger, metrics }),
      ...useQueryLimits(limits),
      useRequestTransaction(logger),
      useSharedEventResults(),
      useErrorCodes(),
      useMetricsEndpoint(metrics),
      useGraphiQLAssets(),
      ...(options.plugins ?? []),
      useReadinessCheck({
        endpoint: '/readyz',
        // Never echo the driver's message: it may name hosts or roles.
        check: async () => {
          try {
            await db.query('select 1');
            return true;
          } catch {
            return false;
          }
        },
      }),
    ],
  });
}

/** `GET /metrics` in Prometheus' text format. */
function useMetricsEndpoint(metrics: GatewayMetrics | undefined): Plugin {
  return {
    async onRequest({ url, endResponse, fetchAPI }) {
      if (!metrics || url.pathname !== '/metrics') return;
      endResponse(
        new fetchAPI.Response(await metrics.registry.metrics(), { headers: { 'content-type': metrics.registry.contentType } }),
      );
    },
  };
}

export type Gateway = ReturnType<typeof createGateway>;

/**
 * graphql can be loaded twice (its CJS and ESM builds, as under vitest), so errors are told by
 * name, not instanceof; new ones come from yoga's createGraphQLError, the class yoga itself checks.
 */
function isGraphQLError(error: unknown): error is GraphQLError {
  return error instanceof Error && error.name === 'GraphQLError';
}
