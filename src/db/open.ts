import { mkdir } from 'node:fs/promises';
import { type DevIdentity, writeDevIdentities } from '../auth/dev-identities.ts';
import type { Config } from '../config.ts';
import { ConfigError } from '../config.ts';
import type { Database } from './database.ts';
import { migrate, type MigrationReport } from './migrate.ts';
import { openPglite, pgliteHandles, pgliteOwner } from './pglite.ts';
import { openPostgres } from './postgres.ts';
import { type PrismaClient, prismaForPglite, prismaForPool, type StatementListener } from './prisma.ts';
import { loadDemoDataIfEmpty } from './seed.ts';

export interface OpenedDatabase {
  /** The connection requests run on, logged in as a role without superuser or BYPASSRLS. */
  gateway: Database;
  /** Prisma over that same connection. */
  prisma: PrismaClient;
  migrations: MigrationReport;
  demoDataLoaded: boolean;
  /** Users of the embedded database, for development tokens; empty on a server. */
  devIdentities: DevIdentity[];
  describe: string;
  close(): Promise<void>;
}

/** Opens the configured database, applies pending migrations and, if asked, the demo data. */
export async function openDatabase(config: Config, onStatement?: StatementListener): Promise<OpenedDatabase> {
  return config.databaseUrl ? openServer(config, config.databaseUrl, onStatement) : openEmbedded(config, onStatement);
}

async function openServer(config: Config, databaseUrl: string, onStatement?: StatementListener): Promise<OpenedDatabase> {
  const owner = openPostgres(config.migrationDatabaseUrl ?? databaseUrl, { max: 2 });
  let migrations: MigrationReport;
  let demoDataLoaded = false;
  try {
    migrations = await migrate(owner);
    if (config.loadDemoData) demoDataLoaded = await loadDemoDataIfEmpty(owner);
  } finally {
    await owner.close();
  }
  const gateway = openPostgres(databaseUrl, { max: config.poolSize });
  try {
    await assertUnprivilegedLogin(gateway);
  } catch (error) {
    await gateway.close();
    throw error;
  }
  const prisma = prismaForPool(gateway.pool, onStatement);
  const url = new URL(databaseUrl);
  return {
    gateway,
    prisma,
    migrations,
    demoDataLoaded,
    devIdentities: [],
    describe: `PostgreSQL at ${url.host}${url.pathname} as ${url.username}`,
    async close() {
      await prisma.$disconnect();
      await gateway.close();
    },
  };
}

async function openEmbedded(config: Config, onStatement?: StatementListener): Promise<OpenedDatabase> {
  await mkdir(config.dataDir, { recursive: true });
  const pg = await openPglite(config.dataDir);
  const owner = pgliteOwner(pg);
  const migrations = await migrate(owner);
  const demoDataLoaded = config.loadDemoData ? await loadDemoDataIfEmpty(owner) : false;
  const devIdentities = config.production ? [] : await writeDevIdentities(owner, config.dataDir);
  const { gateway } = await pgliteHandles(pg);
  await assertUnprivilegedLogin(gateway);
  const prisma = prismaForPglite(pg, onStatement);
  return {
    gateway,
    prisma,
    migrations,
    demoDataLoaded,
    devIdentities,
    describe: `embedded PGlite in ${config.dataDir}`,
    async close() {
      await prisma.$disconnect();
      // Closing PGlite flushes it to disk.
      await gateway.close();
    },
  };
}

/** RLS is the security boundary only if the session cannot bypass it when a role switch is missed. */
export async function assertUnprivilegedLogin(db: Database): Promise<void> {
  const { rows } = await db.query<{ name: string; rolsuper: boolean; rolbypassrls: boolean }>(
    'select rolname as name, rolsuper, rolbypassrls from pg_roles where rolname = session_user',
  );
  const login = rows[0];
  if (!login || login.rolsuper || login.rolbypassrls) {
    throw new ConfigError(
      `DATABASE_URL logs in as ${login?.name ?? 'an unknown role'}, which is a superuser or has BYPASSRLS. ` +
        "The gateway must log in as a role without them (such as authenticator); put the owner's URL in " +
        'MIGRATION_DATABASE_URL for migrations.',
    );
  }
}
