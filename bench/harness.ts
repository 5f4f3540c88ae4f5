import { type ChildProcess, spawn } from 'node:child_process';
import autocannon from 'autocannon';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type DevIdentity, listDevIdentities, readDevIdentities } from '../src/auth/dev-identities.ts';
import type { Database } from '../src/db/database.ts';
import { migrate } from '../src/db/migrate.ts';
import { openPglite, pgliteOwner } from '../src/db/pglite.ts';
import { openPostgres } from '../src/db/postgres.ts';
import { loadDemoDataIfEmpty } from '../src/db/seed.ts';

/** The benchmarks' token secret, new for every run. */
export const SECRET = randomBytes(32).toString('hex');

export interface Target {
  label: string;
  env: Record<string, string>;
  /** The demo users, once the server has loaded the demo data. */
  identities: () => Promise<DevIdentity[]>;
  cleanup: () => Promise<void>;
}

/**
 * Migrates and loads the demo data as the owner, and lifts the demo tenant's request rate out of
 * the way: the load is one caller in one tenant, far above any plan's rate, while the limits'
 * machinery (lookups, counting, flushes) still runs on every request.
 */
async function prepare(owner: Database, extra?: (owner: Database) => Promise<void>): Promise<void> {
  await migrate(owner);
  await loadDemoDataIfEmpty(owner);
  await owner.query(
    `insert into public.tenant_settings (tenant_id, key, value)
     select t.id, 'limits.requests_per_minute', '1000000000' from public.tenants t
     on conflict (tenant_id, key) do update set value = excluded.value`,
  );
  await extra?.(owner);
}

/** Every rate limit out of the way of a benchmark's single caller; every other limit at its default. */
const UNTHROTTLED = { RATE_LIMIT_CALLER_PER_MINUTE: '100000000', RATE_LIMIT_ANONYMOUS_PER_MINUTE: '100000000' };

/** An embedded database in a fresh directory; `extra` adds rows as the owner before the server starts. */
export async function embeddedTarget(extra?: (owner: Database) => Promise<void>): Promise<Target> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'gw-bench-'));
  const pg = await openPglite(dataDir);
  await prepare(pgliteOwner(pg), extra);
  await pg.close();
  return {
    label: 'embedded PGlite',
    env: { DATA_DIR: dataDir },
    // The embedded server writes them at start; it alone may open the database.
    identities: () => readDevIdentities(dataDir),
    cleanup: () => rm(dataDir, { recursive: true, force: true }),
  };
}

/** A throwaway database on the server at `url` (a superuser URL). */
export async function serverTarget(url: string, extra?: (owner: Database) => Promise<void>): Promise<Target> {
  const name = `gw_bench_${randomBytes(4).toString('hex')}`;
  const admin = openPostgres(url, { max: 1 });
  await admin.query(`create database ${name}`);
  const owner = new URL(url);
  owner.pathname = `/${name}`;
  const gateway = new URL(owner);
  gateway.username = 'authenticator';
  gateway.password = process.env.AUTHENTICATOR_PASSWORD ?? '';
  const dataDir = await mkdtemp(path.join(tmpdir(), 'gw-bench-'));
  const ownerDb = openPostgres(owner.toString(), { max: 2 });
  await prepare(ownerDb, extra);
  await ownerDb.close();
  return {
    label: `PostgreSQL (${owner.host})`,
    env: { DATA_DIR: dataDir, MIGRATION_DATABASE_URL: owner.toString(), DATABASE_URL: gateway.toString(), LOAD_DEMO_DATA: 'true' },
    async identities() {
      const database = openPostgres(owner.toString(), { max: 1 });
      try {
        return await listDevIdentities(database);
      } finally {
        await database.close();
      }
    },
    async cleanup() {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** `npm start`'s command: Node with the heap sizing it runs the gateway with. */
function startCommand(): string[] {
  const start = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } }).scripts.start;
  const [node, ...args] = start.split(/\s+/);
  if (node !== 'node') throw new Error(`npm start is expected to run node, not ${node}`);
  return args;
}

/** `npm start` as its own process, so the load generator does not share its event loop. */
export function startServer(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const { DATABASE_URL: _unused, ...inherited } = process.env;
  // BENCH_CPU_PROF_DIR=<dir> profiles the gateway (node --cpu-prof), written when it stops.
  const profile = process.env.BENCH_CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`] : [];
  const child = spawn(process.execPath, [...profile, ...startCommand()], {
    // Not production: the embedded server then writes the demo identities the bench signs for.
    env: { ...inherited, PORT: '0', SUPABASE_JWT_SECRET: SECRET, NODE_ENV: 'development', LOG_PRETTY: 'false', ...UNTHROTTLED, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /GraphQL at (http:\/\/\S+)\/graphql/.exec(output);
      if (match) {
        // From here on the request log only needs draining, not keeping.
        output = '';
        child.stdout!.off('data', onData);
        child.stderr!.off('data', onData);
        child.stdout!.resume();
        child.stderr!.resume();
        resolve({ child, url: match[1]! });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
}


export async function stopServer(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
}

/** The demo user the benchmarks act as. */
export async function demoAdmin(target: Target): Promise<DevIdentity> {
  const admin = (await target.identities()).find((identity) => identity.email === 'admin@example.com');
  if (!admin) throw new Error('demo user admin@example.com is missing: the demo data did not load');
  return admin;
}

/** What one load run measured. */
export interface LoadFigures {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  /** Errors, non-2xx answers and timeouts. */
  failures: number;
}

/** Drives `${url}/graphql` with one operation from `connections` clients for `seconds`. */
export async function drive(
  url: string,
  token: string,
  operation: { query: string; variables?: Record<string, unknown> },
  { connections, seconds }: { connections: number; seconds: number },
): Promise<LoadFigures> {
  const result = await autocannon({
    url: `${url}/graphql`,
    connections,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(operation),
  });
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.errors + result.non2xx + result.timeouts,
  };
}
