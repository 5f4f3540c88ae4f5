import { createGraphQLError, createYoga, maskError as defaultMaskError, useReadinessCheck } from 'graphql-yoga';
import type { GraphQLError } from 'graphql';
import { createAuthenticator } from '../auth/authenticate.ts';
import type { TokenVerifier } from '../auth/verifier.ts';
import { createContext, type GatewayContext } from '../context.ts';
import type { Database } from '../db/database.ts';
import type { PrismaClient } from '../db/prisma.ts';
import { DomainError } from '../errors.ts';
import { schema } from '../schema/index.ts';
import { useRequestTransaction } from './plugins/use-request-transaction.ts';

export interface GatewayOptions {
  /** The raw gateway connection: API key lookups and readiness. */
  db: Database;
  /** Prisma over the same connection; requests run in its interactive transactions. */
  prisma: PrismaClient;
  verifyToken: TokenVerifier;
  logging?: boolean;
  /** Headers GraphiQL starts with, e.g. a demo token in embedded development. */
  graphiqlHeaders?: Record<string, string>;
}

/** The gateway as a fetch handler: tests call `yoga.fetch` with no port open. */
export function createGateway({ db, prisma, verifyToken, logging = true, graphiqlHeaders }: GatewayOptions) {
  const authenticate = createAuthenticator({ verifyToken, db, logging });
  return createYoga<Record<string, unknown>, GatewayContext>({
    schema,
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/healthz',
    landingPage: false,
    logging,
    graphiql: {
      title: 'Tenant GraphQL Gateway',
      defaultQuery: '{\n  viewer {\n    user { id email name }\n    tenant { id name slug }\n    role\n  }\n}\n',
      headers: graphiqlHeaders ? JSON.stringify(graphiqlHeaders, null, 2) : undefined,
    },
    context: async ({ request }) => createContext(prisma, await authenticate(request)),
    // Domain errors reach the client with their code; anything else is an opaque INTERNAL.
    maskedErrors: {
      maskError(error, message, isDev) {
        const original = isGraphQLError(error) ? error.originalError : error;
        if (original instanceof DomainError) {
          return createGraphQLError(original.message, { extensions: { code: original.code } });
        }
        // Pothos refuses a malformed or wrong-type global id with this; the message names both.
        if (original instanceof Error && original.name === 'PothosValidationError') {
          return createGraphQLError(original.message, { extensions: { code: 'VALIDATION_FAILED' } });
        }
        // The client sees only a generic message; operators need the cause.
        if (logging) console.error('unexpected error', original);
        const masked = defaultMaskError(error, message, isDev);
        const code = isGraphQLError(masked) ? masked.extensions.code : undefined;
        return isGraphQLError(masked) && (!code || code === 'INTERNAL_SERVER_ERROR')
          ? createGraphQLError(masked.message, { extensions: { ...masked.extensions, code: 'INTERNAL' } })
          : masked;
      },
    },
    plugins: [
      useRequestTransaction(),
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

export type Gateway = ReturnType<typeof createGateway>;

/**
 * graphql can be loaded twice (its CJS and ESM builds, as under vitest), so errors are told by
 * name, not instanceof; new ones come from yoga's createGraphQLError, the class yoga itself checks.
 */
function isGraphQLError(error: unknown): error is GraphQLError {
  return error instanceof Error && error.name === 'GraphQLError';
}
