import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Database } from '../../src/db/database.ts';
import { migrate } from '../../src/db/migrate.ts';
import { openPglite, pgliteHandles, pgliteOwner, prismaForPglite } from '../../src/db/pglite.ts';
import { openPostgres } from '../../src/db/postgres.ts';
import { type PrismaClient, prismaForPool } from '../../src/db/prisma.ts';

/** A freshly migrated database: `owner` for fixtures and checks, `gateway` as the API login. */
export interface TestDatabase {
  kind: Database['kind'];
  owner: Database;
  gateway: Database;
  /** Prisma over the gateway login. */
  prisma: PrismaClient;
  /** Every SQL statement Prisma sent, in order; tests clear it to count what one request costs. */
  statements: string[];
  /** The parameters each statement was last sent with, to re-run or EXPLAIN it. */
  lastParams: Map<string, unknown[]>;
  /** Calls onPayload with each NOTIFY on `channel` until the returned function is called. */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  /** On a server, the URLs of both logins, for tests that start processes against this database. */
  urls?: { owner: string; gateway: string };
  close(): Promise<void>;
}

function statementLog() {
  const statements: string[] = [];
  const lastParams = new Map<string, unknown[]>();
  const listen = (sql: string, params: string) => {
    statements.push(sql);
    lastParams.set(sql, JSON.parse(params) as unknown[]);
  };
  return { statements, lastParams, listen };
}

/** Where the suite runs: a server when DATABASE_URL is set, embedded PGlite otherwise. */
export const serverUrl = process.env.DATABASE_URL;

/**
 * On a server, every call creates its own database (so test files run in parallel without
 * sharing rows) and connects to it twice: as the URL's user (owner) and as `authenticator`.
 */
export async function createTestDatabase(options: { gatewayPoolSize?: number } = {}): Promise<TestDatabase> {
  return serverUrl ? createServerDatabase(serverUrl, options.gatewayPoolSize ?? 10) : createEmbeddedDatabase();
}

async function createEmbeddedDatabase(): Promise<TestDatabase> {
  const pg = await openPglite();
  await migrate(pgliteOwner(pg));
  const { owner, gateway } = await pgliteHandles(pg);
  const { statements, lastParams, listen } = statementLog();
  const prisma = prismaForPglite(pg, listen);
  return {
    kind: 'pglite',
    owner,
    gateway,
    prisma,
    statements,
    lastParams,
    listen: (channel, onPayload) => pg.listen(channel, onPayload),
    async close() {
      await prisma.$disconnect();
      await owner.close();
    },
  };
}

async function createServerDatabase(url: string, gatewayPoolSize: number): Promise<TestDatabase> {
  const name = `gw_test_${randomBytes(6).toString('hex')}`;
  const admin = openPostgres(url, { max: 1 });
  await admin.query(`create database ${name}`);
  const ownerUrl = new URL(url);
  ownerUrl.pathname = `/${name}`;
  const owner = openPostgres(ownerUrl.toString(), { max: 4 });
  await migrate(owner);
  const gatewayUrl = new URL(ownerUrl);
  gatewayUrl.username = 'authenticator';
  gatewayUrl.password = process.env.AUTHENTICATOR_PASSWORD ?? '';
  const { statements, lastParams, listen } = statementLog();
  const gateway = openPostgres(gatewayUrl.toString(), { max: gatewayPoolSize, onStatement: listen });
  const prisma = prismaForPool(gateway.pool, listen);
  return {
    kind: 'postgres',
    owner,
    gateway,
    prisma,
    statements,
    lastParams,
    urls: { owner: ownerUrl.toString(), gateway: gatewayUrl.toString() },
    async listen(channel, onPayload) {
      const client = new pg.Client({ connectionString: ownerUrl.toString() });
      await client.connect();
      client.on('notification', (message) => {
        if (message.channel === channel) onPayload(message.payload ?? '');
      });
      await client.query(`listen ${channel}`);
      return () => client.end();
    },
    async close() {
      await prisma.$disconnect();
      await gateway.close();
      await owner.close();
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.close();
    },
  };
}
