import { mkdir } from 'node:fs/promises';
import type { Config } from '../config.ts';
import { ConfigError } from '../config.ts';
import type { PoolStats } from '../observability/metrics.ts';
import type { Database } from './database.ts';
import { migrate, type MigrationReport } from './migrate.ts';
import { openPostgres } from './postgres.ts';
import { type PrismaClient, prismaForPool, type StatementListener } from './prisma.ts';
import { loadDemoDataIfEmpty } from './seed.ts';
import type { Logger } from '../observability/logger.ts';
import { type NotificationSource, postgresNotifications } from './notifications.ts';

export interface OpenedDatabase {
  /** The connection requests run on, logged in as a role without superuser or BYPASSRLS. */
  gateway: Database;
  /** Prisma over that same connection. */
  prisma: PrismaClient;
  migrations: MigrationReport;
  demoDataLoaded: boolean;
  /**
   * The embedded database's superuser session (start-up chores such as writing the development
   * identities); absent on a server, where the gateway never holds an owner's connection.
   */
  embeddedOwner?: Database;
  /** NOTIFY as it reaches this process (the realtime change feed): PGlite's own, or a dedicated connection. */
  notifications(logger?: Logger): NotificationSource;
  /** The gateway pool's connections, for metrics; absent for PGlite's single connection. */
  pool?: PoolStats;
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
  const gateway = openPostgres(databaseUrl, { max: config.poolSize, preparedStatements: config.preparedStatements, onStatement });
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
    notifications: (logger) => postgresNotifications(databaseUrl, logger),
    pool: {
      total: () => gateway.pool.totalCount,
      idle: () => gateway.pool.idleCount,
      waiting: () => gateway.pool.waitingCount,
    },
    describe: `PostgreSQL at ${url.host}${url.pathname} as ${url.username}`,
    async close() {
      await prisma.$disconnect();
      await gateway.close();
    },
  };
}

async function openEmbedded(config: Config, onStatement?: StatementListener): Promise<OpenedDatabase> {
  // Loaded only here: a server gateway never carries the embedded engine in its memory.
  const { openPglite, pgliteHandles, pgliteOwner, prismaForPglite } = await import('./pglite.ts');
  await mkdir(config.dataDir, { recursive: true });
  const pg = await openPglite(config.dataDir);
  const owner = pgliteOwner(pg);
  const migrations = await migrate(owner);
  const demoDataLoaded = config.loadDemoData ? await loadDemoDataIfEmpty(owner) : false;
  // From here on the superuser is reached only through the handle that switches back per transaction.
  const handles = await pgliteHandles(pg);
  const { gateway } = handles;
  // PGlite's only login is a superuser, so the login check cannot pass here; what must hold is
  // that requests start from authenticator and switch to an API role (README, "Embedded isolation").
  const login = await loginPrivileges(gateway);
  if (login.actingAs !== 'authenticator') throw new Error(`the embedded gateway session acts as ${login.actingAs}, not authenticator`);
  const prisma = prismaForPglite(pg, onStatement);
  return {
    gateway,
    prisma,
    migrations,
    demoDataLoaded,
    embeddedOwner: handles.owner,
    notifications: () => ({ listen: (channel, onPayload) => pg.listen(channel, onPayload) }),
    describe: `embedded PGlite in ${config.dataDir}, superuser login acting as authenticator`,
    async close() {
      await prisma.$disconnect();
      // Closing PGlite flushes it to disk.
      await gateway.close();
    },
  };
}

/** What a connection's session can do: the role it acts as, and any superuser it could become. */
export interface LoginPrivileges {
  actingAs: string;
  superuser: boolean;
  bypassRls: boolean;
  /** A superuser this session can switch to with `set session authorization`; null when it can switch to none. */
  canBecome: string | null;
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * Reads the session's own attributes, then tries to become each superuser for the length of
 * the transaction. Only a superuser login can do that, even one that has switched to
 * authenticator, so this tells an honest login from a privileged one dressed as authenticator.
 */
export async function loginPrivileges(db: Database): Promise<LoginPrivileges> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ name: string; rolsuper: boolean; rolbypassrls: boolean }>(
      'select rolname::text as name, rolsuper, rolbypassrls from pg_roles where rolname = session_user',
    );
    const session = rows[0];
    if (!session) throw new Error('the session user has no pg_roles row');
    const supers = await tx.query<{ name: string }>('select rolname::text as name from pg_roles where rolsuper order by rolname');
    let canBecome: string | null = null;
    for (const { name } of supers.rows) {
      await tx.query('savepoint login_probe');
      try {
        await tx.query(`set local session authorization ${quoteIdent(name)}`);
        canBecome = name;
        break;
      } catch {
        await tx.query('rollback to savepoint login_probe');
      }
    }
    // `set local` ends with this transaction, so nothing of the probe outlives it.
    return { actingAs: session.name, superuser: session.rolsuper, bypassRls: session.rolbypassrls, canBecome };
  });
}

/** RLS is the security boundary only if the session cannot bypass it when a role switch is missed. */
export async function assertUnprivilegedLogin(db: Database): Promise<void> {
  const login = await loginPrivileges(db);
  if (login.superuser || login.bypassRls || login.canBecome) {
    const what = login.canBecome ? `can switch to the superuser ${login.canBecome}` : 'is a superuser or has BYPASSRLS';
    throw new ConfigError(
      `DATABASE_URL logs in as ${login.actingAs}, which ${what}. ` +
        "The gateway must log in as a role without them (such as authenticator); put the owner's URL in " +
        'MIGRATION_DATABASE_URL for migrations.',
    );
  }
}
