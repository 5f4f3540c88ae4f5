import { createYoga, useReadinessCheck } from 'graphql-yoga';
import { ANONYMOUS, type GatewayContext } from '../context.ts';
import type { Database } from '../db/database.ts';
import { schema } from '../schema/index.ts';

export interface GatewayOptions {
  db: Database;
  logging?: boolean;
}

/** The gateway as a fetch handler: tests call `yoga.fetch` with no port open. */
export function createGateway({ db, logging = true }: GatewayOptions) {
  return createYoga<Record<string, unknown>, GatewayContext>({
    schema,
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/healthz',
    landingPage: false,
    logging,
    context: (): GatewayContext => ({ db, claims: ANONYMOUS }),
    plugins: [
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
