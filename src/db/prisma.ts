import { PrismaPg } from '@prisma/adapter-pg';
import type pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.ts';
import { countStatement } from '../observability/request-scope.ts';

export type { Prisma } from '../generated/prisma/client.ts';
export { PrismaClient };

/** Called once per SQL statement Prisma sends, with its parameters as JSON; used to count statements per request. */
export type StatementListener = (sql: string, params: string) => void;

export function createPrisma(adapter: NonNullable<ConstructorParameters<typeof PrismaClient>[0]['adapter']>, onStatement?: StatementListener): PrismaClient {
  // api_keys.key_hash is not granted to `authenticated`: queries on ApiKey must `select`
  // their columns, or the database refuses them (loudly, never leaking the hash).
  const client = new PrismaClient({ adapter, log: [{ emit: 'event', level: 'query' }] });
  // The listener runs in the query's async context, so the statement counts against its request.
  client.$on('query' as never, (event: { query: string; params: string }) => {
    countStatement();
    onStatement?.(event.query, event.params);
  });
  return client;
}

/** Prisma over the gateway's pool, sharing its connections. */
export function prismaForPool(pool: pg.Pool, onStatement?: StatementListener): PrismaClient {
  return createPrisma(new PrismaPg(pool), onStatement);
}
