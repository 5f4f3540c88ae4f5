import { mkdir } from 'node:fs/promises';
import type { Config } from '../config.ts';
import { ConfigError } from '../config.ts';
import type { Database } from './database.ts';
import { migrate, type MigrationReport } from './migrate.ts';
import { openPglite, pgliteHandles, pgliteOwner } from './pglite.ts';
import { openPostgres } from './postgres.ts';
import { loadDemoDataIfEmpty } from './seed.ts';

export interface OpenedDatabase {
  /** The connection requests run on, logged in as a role without superuser or BYPASSRLS. */
  gateway: Database;
  migrations: MigrationReport;
  demoDataLoaded: boolean;
  describe: string;
}

/** Opens the configured database, applies pending migrations and, if asked, the demo data. */
export async function openDatabase(config: Config): Promise<OpenedDatabase> {
  if (!config.databaseUrl) return openEmbedded(config);
  const owner = openPostgres(config.migrationDatabaseUrl ?? config.databaseUrl, { max: 2 });
  let migrations: MigrationReport;
  let demoDataLoaded = false;
  try {
    migrations = await migrate(owner);
    if (config.loadDemoData) demoDataLoaded = await loadDemoDataIfEmpty(owner);
  } finally {
    await owner.close();
  }
  const gateway = openPostgres(config.databaseUrl, { max: config.poolSize });
  try {
    await assertUnprivilegedLogin(gateway);
  } catch (error) {
    await gateway.close();
    throw error;
  }
  const url = new URL(config.databaseUrl);
  return { gateway, migrations, demoDataLoaded, describe: `PostgreSQL at ${url.host}${url.pathname} as ${url.username}` };
}

async function openEmbedded(config: Config): Promise<OpenedDatabase> {
  await mkdir(config.dataDir, { recursive: true });
  const pg = await openPglite(config.dataDir);
  const owner = pgliteOwner(pg);
  const migrations = await migrate(owner);
  const demoDataLoaded = config.loadDemoData ? await loadDemoDataIfEmpty(owner) : false;
  const { gateway } = await pgliteHandles(pg);
  await assertUnprivilegedLogin(gateway);
  return { gateway, migrations, demoDataLoaded, describe: `embedded PGlite in ${config.dataDir}` };
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
        'The gateway must log in as a role without them (such as authenticator); put the owner\'s URL in ' +
        'MIGRATION_DATABASE_URL for migrations.',
    );
  }
}
