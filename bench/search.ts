import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { EMBEDDING_DIMENSIONS, normalize } from '../src/ai/provider.ts';
import type { Database, Queryable } from '../src/db/database.ts';
import { migrate } from '../src/db/migrate.ts';
import { assertUnprivilegedLogin } from '../src/db/open.ts';
import { openPostgres } from '../src/db/postgres.ts';
import { type RequestClaims, withClaims } from '../src/session/claims.ts';
import { type SearchScope, VECTOR_SEARCH, type VectorPlan, vectorRanking } from '../src/search/ranking.ts';
import { startServer, stopServer } from './harness.ts';
import { type LabelledTenant, measureLabelledSet, printLabelledSet, rowIdOf, seedLabelledSet, tokenFor } from './search-labelled.ts';

// `npm run bench:search`: recall and latency of vector search inside one tenant, by tenant size.
// BENCH_ROWS analyses with synthetic clustered 384-d unit vectors (seeded, so every run loads the
// same rows) are spread over tenants holding 50%, 10%, 5%, 1%, 0.1% and 0.01% of them plus ~200
// others. For each size, BENCH_QUERIES query vectors: the tenant's exact top 10 (as the owner,
// no vector index) against what vectorRanking (src/search/ranking.ts) returns to a member of the
// tenant, row-level security on, timed client-side. A few of the same queries then go through
// the real server's GraphQL `search`, and a small labelled set compares KEYWORD, SEMANTIC and
// HYBRID search (bench/search-labelled.ts). On PostgreSQL when DATABASE_URL names a server
// (superuser URL): the rows go into the database BENCH_DATABASE there, kept, and a later run with
// the same settings measures them again without loading (BENCH_RELOAD=true loads them anyway).
// Else embedded PGlite, kept in BENCH_DATA_DIR.
const ROWS = Number(process.env.BENCH_ROWS ?? 200_000);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 50);
/** Untimed queries per bucket before the measured ones (pages into memory, the plan's EXPLAIN). */
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
/** Queries for the baseline: the HNSW index's own recall on these vectors, without any filter. */
const BASELINE_QUERIES = Number(process.env.BENCH_BASELINE_QUERIES ?? 20);
/** Measured queries per bucket that also go through GraphQL. */
const GRAPHQL_CHECKS = Number(process.env.BENCH_GRAPHQL_QUERIES ?? 2);
const CLUSTERS = Number(process.env.BENCH_CLUSTERS ?? 500);
/** Standard deviation of each coordinate's noise around a cluster centre (unit length). */
const NOISE = Number(process.env.BENCH_NOISE ?? 0.04);
const SEED = Number(process.env.BENCH_SEED ?? 1);
const DATABASE_NAME = process.env.BENCH_DATABASE ?? 'gw_bench_search';
const DATA_DIR = process.env.BENCH_DATA_DIR ?? path.join(tmpdir(), 'gw-bench-search');
/** Load again even when the database already holds these rows. */
const RELOAD = process.env.BENCH_RELOAD === 'true';
/** Bumped whenever the generated rows change, so a database of older rows is loaded again. */
const GENERATOR = 1;
const BATCH_ROWS = 1_000;
const TOP = 10;

/** The measured tenant sizes, as shares of ROWS; every other row goes to REST_TENANTS smaller and larger ones. */
const BUCKETS = [
  { bucket: '0.01%', share: 0.0001, tenants: 5 },
  { bucket: '0.1%', share: 0.001, tenants: 5 },
  { bucket: '1%', share: 0.01, tenants: 3 },
  { bucket: '5%', share: 0.05, tenants: 1 },
  { bucket: '10%', share: 0.1, tenants: 1 },
  { bucket: '50%', share: 0.5, tenants: 1 },
] as const;
const REST_TENANTS = 200;

// --- Seeded numbers ----------------------------------------------------------------------------

/** mulberry32: a small seeded generator, uniform in [0, 1). */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal numbers from a uniform generator (Box-Muller, both halves used). */
function gaussian(uniform: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const value = spare;
      spare = undefined;
      return value;
    }
    const radius = Math.sqrt(-2 * Math.log(1 - uniform()));
    const angle = 2 * Math.PI * uniform();
    spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  };
}

/** The cluster centres, random unit vectors: the same for the same SEED and CLUSTERS. */
function clusterCentres(): Float32Array[] {
  const normal = gaussian(prng(SEED));
  return Array.from({ length: CLUSTERS }, () => normalize(Float32Array.from({ length: EMBEDDING_DIMENSIONS }, normal)));
}

/** A centre plus gaussian noise, scaled to unit length. */
function nearCentre(centre: Float32Array, normal: () => number): Float32Array {
  const vector = new Float32Array(EMBEDDING_DIMENSIONS);
  for (let i = 0; i < EMBEDDING_DIMENSIONS; i += 1) vector[i] = centre[i]! + NOISE * normal();
  return normalize(vector);
}

/** pgvector's text form with six decimals: near the float4 precision it stores, in half the text of a full double. */
function vectorText(vector: Float32Array): string {
  let text = '[';
  for (let i = 0; i < vector.length; i += 1) text += (i ? ',' : '') + vector[i]!.toFixed(6);
  return `${text}]`;
}

// --- Tenants -----------------------------------------------------------------------------------

interface TenantPlan {
  ordinal: number;
  bucket: string;
  rows: number;
}

/** Every tenant and its row count: the measured buckets first, then the rest with random weights. */
function tenantPlan(): TenantPlan[] {
  const plan: TenantPlan[] = [];
  for (const { bucket, share, tenants } of BUCKETS) {
    for (let i = 0; i < tenants; i += 1) plan.push({ ordinal: plan.length, bucket, rows: Math.max(1, Math.round(ROWS * share)) });
  }
  const rest = ROWS - plan.reduce((sum, tenant) => sum + tenant.rows, 0);
  if (rest < REST_TENANTS) throw new Error(`BENCH_ROWS=${ROWS} is too few for ${plan.length + REST_TENANTS} tenants`);
  const uniform = prng(SEED + 1);
  // Exponential weights: mostly small tenants, a few of several times the mean.
  const weights = Array.from({ length: REST_TENANTS }, () => -Math.log(1 - uniform()));
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  const sizes = weights.map((weight) => 1 + Math.floor(((rest - REST_TENANTS) * weight) / total));
  // Rounding leaves a few rows over: they go to the first tenants, one each.
  let left = rest - sizes.reduce((sum, size) => sum + size, 0);
  for (let i = 0; left > 0; i = (i + 1) % REST_TENANTS, left -= 1) sizes[i]! += 1;
  for (const size of sizes) plan.push({ ordinal: plan.length, bucket: 'rest', rows: size });
  return plan;
}

interface BenchTenant {
  ordinal: number;
  bucket: string;
  rows: number;
  tenantId: string;
  userId: string;
  email: string;
}

const slugOf = (tenant: TenantPlan) => `bench-${tenant.bucket.replace('%', 'pct').replace('.', '-')}-${tenant.ordinal}`;

// --- The database ------------------------------------------------------------------------------

/** Where the rows live: a kept database on a PostgreSQL server, or a kept embedded directory. */
interface BenchDatabase {
  label: string;
  owner: Database;
  /** Logged in as `authenticator`, as the server's request connections are. */
  gateway: Database;
  /** Rows go in on this many connections at once. */
  parallel: number;
  /** What startServer needs to serve this database. */
  serverEnv: Record<string, string>;
  /** Closes this process's connections (the embedded server then opens the directory itself). */
  close(): Promise<void>;
}

async function openServerDatabase(url: string, fresh: boolean): Promise<BenchDatabase> {
  const admin = openPostgres(url, { max: 1 });
  try {
    if (fresh) await admin.query(`drop database if exists ${DATABASE_NAME} with (force)`);
    const { rows } = await admin.query('select 1 from pg_database where datname = $1', [DATABASE_NAME]);
    if (rows.length === 0) await admin.query(`create database ${DATABASE_NAME}`);
  } finally {
    await admin.close();
  }
  const ownerUrl = new URL(url);
  ownerUrl.pathname = `/${DATABASE_NAME}`;
  const gatewayUrl = new URL(ownerUrl);
  gatewayUrl.username = 'authenticator';
  gatewayUrl.password = process.env.AUTHENTICATOR_PASSWORD ?? '';
  const owner = openPostgres(ownerUrl.toString(), { max: 2, applicationName: 'bench-search-owner' });
  await migrate(owner);
  const gateway = openPostgres(gatewayUrl.toString(), { max: 2, applicationName: 'bench-search-gateway' });
  // What the server checks before it serves: the login cannot bypass row-level security.
  await assertUnprivilegedLogin(gateway);
  const serverDir = await mkdtemp(path.join(tmpdir(), 'gw-bench-'));
  return {
    label: `PostgreSQL (${ownerUrl.host}/${DATABASE_NAME})`,
    owner,
    gateway,
    parallel: 2,
    serverEnv: {
      DATA_DIR: serverDir,
      MIGRATION_DATABASE_URL: ownerUrl.toString(),
      DATABASE_URL: gatewayUrl.toString(),
      LOAD_DEMO_DATA: 'false',
      WORKER_ENABLED: 'false',
    },
    async close() {
      await gateway.close();
      await owner.close();
      await rm(serverDir, { recursive: true, force: true });
    },
  };
}

async function openEmbeddedDatabase(fresh: boolean): Promise<BenchDatabase> {
  if (fresh) await rm(DATA_DIR, { recursive: true, force: true });
  const { openPglite, pgliteHandles, pgliteOwner } = await import('../src/db/pglite.ts');
  const pg = await openPglite(DATA_DIR);
  await migrate(pgliteOwner(pg));
  const { owner, gateway } = await pgliteHandles(pg);
  return {
    label: `embedded PGlite (${DATA_DIR})`,
    owner,
    gateway,
    parallel: 1,
    serverEnv: { DATA_DIR, LOAD_DEMO_DATA: 'false', WORKER_ENABLED: 'false' },
    close: () => pg.close(),
  };
}

const openDatabase = (fresh: boolean) =>
  process.env.DATABASE_URL ? openServerDatabase(process.env.DATABASE_URL, fresh) : openEmbeddedDatabase(fresh);

// The bench's own bookkeeping, in a schema of its own that no API role can reach.
const BOOKKEEPING = `
  create schema if not exists bench;
  create table if not exists bench.search_load (
    rows integer not null, clusters integer not null, noise float8 not null, seed integer not null,
    generator integer not null, load_seconds float8 not null, index_seconds float8 not null,
    loaded_at timestamptz not null default now()
  );
  create table if not exists bench.search_tenants (
    ordinal integer primary key, bucket text not null, rows integer not null,
    tenant_id uuid not null, user_id uuid not null, email text not null
  );`;

interface LoadMarker {
  load_seconds: number;
  index_seconds: number;
  loaded_at: Date;
}

/** The marker of a finished load of exactly these settings, if the rows are all there. */
async function loadedBefore(owner: Database): Promise<LoadMarker | undefined> {
  const { rows: exists } = await owner.query<{ found: boolean }>(`select to_regclass('bench.search_load') is not null as found`);
  if (!exists[0]?.found) return undefined;
  const { rows } = await owner.query<LoadMarker>(
    `select load_seconds, index_seconds, loaded_at from bench.search_load
     where rows = $1 and clusters = $2 and noise = $3 and seed = $4 and generator = $5`,
    [ROWS, CLUSTERS, NOISE, SEED, GENERATOR],
  );
  if (!rows[0]) return undefined;
  const { rows: counted } = await owner.query<{ n: number }>(`select count(*)::int as n from public.analyses where embedding_model = 'bench'`);
  return counted[0]?.n === ROWS ? rows[0] : undefined;
}

/** Does the database hold anything a load would have to clear first? */
async function holdsRows(owner: Database): Promise<boolean> {
  const { rows } = await owner.query<{ n: number }>('select count(*)::int as n from (select 1 from public.tenants limit 1) t');
  return (rows[0]?.n ?? 0) > 0;
}

// As supabase/migrations/20251124001800_hnsw_graph_quality.sql builds it.
const EMBEDDING_INDEX =
  'create index if not exists analyses_embedding_idx on public.analyses using hnsw (embedding extensions.vector_cosine_ops) with (m = 24, ef_construction = 128)';

/** Memory for building the HNSW index in one pass (its graph in memory): about 3 kB a row, at least 1 GB. */
const buildMemory = () => `${Math.max(1024, Math.ceil((ROWS * 3) / 1024))}MB`;

async function buildEmbeddingIndex(owner: Database): Promise<number> {
  const started = performance.now();
  await owner.transaction((tx) => tx.exec(EMBEDDING_INDEX), `set local maintenance_work_mem = '${buildMemory()}'`);
  return (performance.now() - started) / 1000;
}

/** Tenants, their member users and memberships, as the owner; the triggers make the profiles. */
async function createTenants(owner: Database, plan: TenantPlan[]): Promise<BenchTenant[]> {
  const tenants = plan.map((tenant) => ({
    ...tenant,
    tenantId: randomUUID(),
    userId: randomUUID(),
    email: `bench-member-${tenant.ordinal}@bench.test`,
  }));
  const column = <K extends keyof (typeof tenants)[number]>(key: K) => tenants.map((tenant) => tenant[key]);
  await owner.query(
    `insert into auth.users (id, email, raw_user_meta_data, email_confirmed_at)
     select id, email, jsonb_build_object('name', 'Bench member ' || ordinal), now()
     from unnest($1::uuid[], $2::text[], $3::int[]) as t (id, email, ordinal)`,
    [column('userId'), column('email'), column('ordinal')],
  );
  await owner.query(
    `insert into public.tenants (id, name, slug, max_users, max_projects)
     select id, 'Bench tenant ' || slug, slug, 50, 100000 from unnest($1::uuid[], $2::text[]) as t (id, slug)`,
    [column('tenantId'), plan.map(slugOf)],
  );
  await owner.query(
    `insert into public.tenant_users (tenant_id, user_id, role)
     select tenant_id, user_id, 'MEMBER' from unnest($1::uuid[], $2::uuid[]) as t (tenant_id, user_id)`,
    [column('tenantId'), column('userId')],
  );
  // The GraphQL checks are one caller firing queries back to back: out of the rate limit's way.
  await owner.query(
    `insert into public.tenant_settings (tenant_id, key, value)
     select id, 'limits.requests_per_minute', '1000000000' from unnest($1::uuid[]) as t (id)`,
    [column('tenantId')],
  );
  await owner.query(
    `insert into bench.search_tenants (ordinal, bucket, rows, tenant_id, user_id, email)
     select * from unnest($1::int[], $2::text[], $3::int[], $4::uuid[], $5::uuid[], $6::text[])`,
    [column('ordinal'), column('bucket'), column('rows'), column('tenantId'), column('userId'), column('email')],
  );
  return tenants;
}

/** Which tenant each row belongs to, shuffled: a tenant's rows arrive among everyone else's. */
function rowOwners(tenants: BenchTenant[]): Uint16Array {
  const owners = new Uint16Array(ROWS);
  let at = 0;
  for (const tenant of tenants) owners.fill(tenant.ordinal, at, (at += tenant.rows));
  const uniform = prng(SEED + 2);
  for (let i = owners.length - 1; i > 0; i -= 1) {
    const j = Math.floor(uniform() * (i + 1));
    [owners[i], owners[j]] = [owners[j]!, owners[i]!];
  }
  return owners;
}

const INSERT_ANALYSES = `
  insert into public.analyses (tenant_id, user_id, type, input, status, embedding, embedding_model, created_at)
  select t.tenant_id, t.user_id, 'TEXT_ANALYSIS', 'bench row ' || t.n, 'COMPLETED', t.embedding::extensions.vector, 'bench',
         now() - t.n * interval '1 second'
  from unnest($1::uuid[], $2::uuid[], $3::int[], $4::text[]) as t (tenant_id, user_id, n, embedding)`;

/**
 * The owner's bulk import. `session_replication_role = replica` skips the per-row triggers, as
 * pg_restore does: the audit entries (which an import is not) and the foreign-key checks (the
 * tenants and members were just made). The rows themselves are what an API insert would leave,
 * COMPLETED with their embedding and its model, so no job is queued.
 */
async function loadRows(db: BenchDatabase): Promise<{ loadSeconds: number; indexSeconds: number; vacuumSeconds: number }> {
  const started = performance.now();
  const plan = tenantPlan();
  const tenants = await createTenants(db.owner, plan);
  // Building the index once after the load is far faster than growing it row by row.
  await db.owner.exec('drop index if exists public.analyses_embedding_idx');
  const owners = rowOwners(tenants);
  const centres = clusterCentres();
  const uniform = prng(SEED + 3);
  const normal = gaussian(uniform);
  const inFlight: Promise<void>[] = [];
  let reported = performance.now();
  for (let first = 0; first < ROWS; first += BATCH_ROWS) {
    const tenantIds: string[] = [];
    const userIds: string[] = [];
    const numbers: number[] = [];
    const embeddings: string[] = [];
    for (let n = first; n < Math.min(ROWS, first + BATCH_ROWS); n += 1) {
      const tenant = tenants[owners[n]!]!;
      tenantIds.push(tenant.tenantId);
      userIds.push(tenant.userId);
      numbers.push(n);
      embeddings.push(vectorText(nearCentre(centres[Math.floor(uniform() * CLUSTERS)]!, normal)));
    }
    if (inFlight.length >= db.parallel) await inFlight.shift();
    inFlight.push(
      db.owner.transaction(
        async (tx) => void (await tx.query(INSERT_ANALYSES, [tenantIds, userIds, numbers, embeddings])),
        'set local session_replication_role = replica',
      ),
    );
    if (performance.now() - reported > 15_000) {
      reported = performance.now();
      process.stderr.write(`  ${first.toLocaleString('en-US')} rows in ${((reported - started) / 1000).toFixed(0)} s\n`);
    }
  }
  await Promise.all(inFlight);
  const loadSeconds = (performance.now() - started) / 1000;
  process.stderr.write(`  ${ROWS.toLocaleString('en-US')} rows in ${loadSeconds.toFixed(0)} s; building the HNSW index\n`);
  const indexSeconds = await buildEmbeddingIndex(db.owner);
  // As a table of this age would be: statistics current, and the visibility map set, so counting
  // a tenant's rows reads its index alone.
  const vacuumStarted = performance.now();
  await db.owner.exec('vacuum analyze');
  const vacuumSeconds = (performance.now() - vacuumStarted) / 1000;
  await db.owner.query(
    `insert into bench.search_load (rows, clusters, noise, seed, generator, load_seconds, index_seconds) values ($1, $2, $3, $4, $5, $6, $7)`,
    [ROWS, CLUSTERS, NOISE, SEED, GENERATOR, loadSeconds, indexSeconds],
  );
  return { loadSeconds, indexSeconds, vacuumSeconds };
}

/** The database with the rows loaded: reused when a run with the same settings loaded it. */
async function prepared(): Promise<{ db: BenchDatabase; load: string }> {
  let db = await openDatabase(false);
  await db.owner.exec(BOOKKEEPING);
  const marker = RELOAD ? undefined : await loadedBefore(db.owner);
  if (marker) {
    // A build that died half way leaves no marker; this covers an index dropped by hand.
    const { rows } = await db.owner.query<{ found: boolean }>(`select to_regclass('public.analyses_embedding_idx') is not null as found`);
    if (!rows[0]?.found) await buildEmbeddingIndex(db.owner);
    return {
      db,
      load: `reused (loaded ${marker.loaded_at.toISOString().slice(0, 16)}Z in ${marker.load_seconds.toFixed(0)} s + HNSW index ${marker.index_seconds.toFixed(0)} s)`,
    };
  }
  if (await holdsRows(db.owner)) {
    process.stderr.write(`bench:search: the database holds ${RELOAD ? 'rows (BENCH_RELOAD)' : 'other rows'}; starting it again empty\n`);
    await db.close();
    db = await openDatabase(true);
    await db.owner.exec(BOOKKEEPING);
  }
  process.stderr.write(`bench:search: loading ${ROWS.toLocaleString('en-US')} analyses into ${db.label}\n`);
  const { loadSeconds, indexSeconds, vacuumSeconds } = await loadRows(db);
  const total = loadSeconds + indexSeconds + vacuumSeconds;
  return {
    db,
    load: `loaded now: rows ${loadSeconds.toFixed(0)} s, HNSW index ${indexSeconds.toFixed(0)} s, vacuum analyze ${vacuumSeconds.toFixed(0)} s, total ${total.toFixed(0)} s`,
  };
}

// --- Measuring -----------------------------------------------------------------------------------

/**
 * Reads the table and its indexes into the operating system's cache (pg_prewarm's `read`), so a
 * run right after another database's load measures the search, not the disk. Where pg_prewarm
 * is missing (PGlite), the warm-up queries alone warm what they touch.
 */
async function warmCaches(owner: Database): Promise<string> {
  const { rows } = await owner.query(`select 1 from pg_available_extensions where name = 'pg_prewarm'`);
  if (rows.length === 0) return 'caches: not prewarmed (no pg_prewarm)';
  await owner.exec('create extension if not exists pg_prewarm with schema extensions');
  const started = performance.now();
  const { rows: pages } = await owner.query<{ n: number }>(
    `select sum(extensions.pg_prewarm(c.oid, 'read'))::int as n from pg_class c
     where c.oid = 'public.analyses'::regclass or c.oid in (select indexrelid from pg_index where indrelid = 'public.analyses'::regclass)`,
  );
  return `caches: analyses and its indexes read into the OS cache first (pg_prewarm, ${((pages[0]?.n ?? 0) / 128).toFixed(0)} MB in ${((performance.now() - started) / 1000).toFixed(0)} s)`;
}

const claimsOf = (tenant: BenchTenant): RequestClaims => ({
  sub: tenant.userId,
  role: 'authenticated',
  aud: 'authenticated',
  email: tenant.email,
  app_metadata: { tenant_id: tenant.tenantId },
  user_metadata: {},
});

const scopeOf = (tenant: BenchTenant): SearchScope => ({
  tenantId: tenant.tenantId,
  projectId: null,
  status: null,
  type: null,
  createdAfter: null,
  createdBefore: null,
  excludeId: null,
});

/** The tenant's true top 10, as the owner: `+ 0` keeps the HNSW index from serving the order. */
async function exactTop(owner: Database, tenant: BenchTenant, literal: string): Promise<string[]> {
  const { rows } = await owner.query<{ id: string }>(
    `select r.id::text as id from public.analyses r where r.tenant_id = $1::uuid and r.embedding is not null
     order by (r.embedding operator(extensions.<=>) $2::extensions.vector) + 0, r.id limit ${TOP}`,
    [tenant.tenantId, literal],
  );
  return rows.map((row) => row.id);
}

/** Passes statements through, first EXPLAINing those that compare embeddings (`<=>`) into `plans`. */
function explaining(tx: Queryable, plans: string[]): Queryable {
  return {
    async query(text, params) {
      if (text.includes('<=>')) {
        const { rows } = await tx.query<{ 'QUERY PLAN': string }>(`explain (costs off) ${text}`, params);
        plans.push(rows.map((row) => row['QUERY PLAN']).join('\n'));
      }
      return tx.query(text, params);
    },
    exec: (script) => tx.exec(script),
  };
}

/**
 * Runs each statement under EXPLAIN ANALYZE first and adds its planning and execution time to
 * `total.ms`: the database's own time for the statements, without round trips or the client.
 */
function analysing(tx: Queryable, total: { ms: number }): Queryable {
  return {
    async query(text, params) {
      const { rows } = await tx.query<{ 'QUERY PLAN': [{ 'Planning Time': number; 'Execution Time': number }] }>(
        `explain (analyze, timing off, format json) ${text}`,
        params,
      );
      const [plan] = rows[0]!['QUERY PLAN'];
      total.ms += plan['Planning Time'] + plan['Execution Time'];
      return tx.query(text, params);
    },
    exec: (script) => tx.exec(script),
  };
}

/** How the plan reached the analyses: the index it walked, or a sequential scan. */
function scanOf(plan: string): string {
  const scans = new Set<string>();
  for (const match of plan.matchAll(/Seq Scan on analyses|(?:Index Scan|Index Only Scan) using (\w+) on analyses|Bitmap Index Scan on (\w+)/g)) {
    scans.add(match[1] ?? (match[2] ? `${match[2]} (bitmap)` : 'seq scan'));
  }
  return [...scans].join(' + ') || '?';
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;

interface BucketFigures {
  bucket: string;
  tenantRows: number[];
  plans: Set<VectorPlan>;
  scan: string;
  recallMean: number;
  recallMin: number;
  p50: number;
  p99: number;
  /** Database time (planning + execution of the statements, EXPLAIN ANALYZE), p50. */
  dbP50: number;
  /** Rows of another tenant among the answers: row-level security says 0. */
  foreign: number;
}

interface GraphqlCheck {
  tenant: BenchTenant;
  vector: Float32Array;
  /** What vectorRanking returns with the API's limit (first + 1), cut to the page. */
  ids: string[];
}

async function measureBucket(db: BenchDatabase, bucket: string, tenants: BenchTenant[], centres: Float32Array[], checks: GraphqlCheck[]) {
  // Each bucket its own query stream, so changing one bucket's count does not move the others'.
  const uniform = prng(SEED + 100 + BUCKETS.findIndex((b) => b.bucket === bucket));
  const normal = gaussian(uniform);
  const queries = Array.from({ length: WARMUP + QUERIES }, (_, q) => ({
    tenant: tenants[q % tenants.length]!,
    vector: nearCentre(centres[Math.floor(uniform() * CLUSTERS)]!, normal),
  }));
  const rank = (tenant: BenchTenant, tx: Queryable, vector: Float32Array, limit = TOP) =>
    vectorRanking(tx, vector, ['ANALYSIS'], scopeOf(tenant), limit);

  const explained: string[] = [];
  for (const [q, { tenant, vector }] of queries.slice(0, WARMUP).entries()) {
    await withClaims(db.gateway, claimsOf(tenant), (tx) => rank(tenant, q === 0 ? explaining(tx, explained) : tx, vector));
  }
  // The timed queries back to back: the exact answers, read as the owner, come after them, so
  // their scans of whole tenants do not push the searches' pages out of the cache in between.
  const measured = queries.slice(WARMUP);
  const times: number[] = [];
  const plans = new Set<VectorPlan>();
  const answers: string[][] = [];
  for (const { tenant, vector } of measured) {
    let elapsed = 0;
    const result = await withClaims(db.gateway, claimsOf(tenant), async (tx) => {
      const started = performance.now();
      const found = await rank(tenant, tx, vector);
      elapsed = performance.now() - started;
      return found;
    });
    times.push(elapsed);
    for (const plan of result.plans) plans.add(plan);
    answers.push(result.ranked.map((hit) => hit.id));
  }
  // The same queries again under EXPLAIN ANALYZE, untimed: the database's own time.
  const dbTimes: number[] = [];
  for (const { tenant, vector } of measured) {
    const total = { ms: 0 };
    await withClaims(db.gateway, claimsOf(tenant), (tx) => rank(tenant, analysing(tx, total), vector));
    dbTimes.push(total.ms);
  }
  dbTimes.sort((a, b) => a - b);
  for (const { tenant, vector } of measured.slice(0, GRAPHQL_CHECKS)) {
    const api = await withClaims(db.gateway, claimsOf(tenant), (tx) => rank(tenant, tx, vector, TOP + 1));
    checks.push({ tenant, vector, ids: api.ranked.slice(0, TOP).map((hit) => hit.id) });
  }
  const recalls: number[] = [];
  for (const [q, { tenant, vector }] of measured.entries()) {
    const truth = await exactTop(db.owner, tenant, `[${Array.from(vector).join(',')}]`);
    recalls.push(truth.length ? answers[q]!.filter((id) => truth.includes(id)).length / truth.length : 1);
  }
  const returned = answers.flat();
  const scan = scanOf(explained.join('\n'));
  const { rows } = await db.owner.query<{ n: number }>(
    `select count(*)::int as n from public.analyses where id = any($1::uuid[]) and tenant_id <> all($2::uuid[])`,
    [returned, tenants.map((tenant) => tenant.tenantId)],
  );
  times.sort((a, b) => a - b);
  return {
    bucket,
    tenantRows: [...new Set(tenants.map((tenant) => tenant.rows))],
    plans,
    scan,
    recallMean: recalls.reduce((sum, r) => sum + r, 0) / recalls.length,
    recallMin: Math.min(...recalls),
    p50: percentile(times, 0.5),
    p99: percentile(times, 0.99),
    dbP50: percentile(dbTimes, 0.5),
    foreign: rows[0]?.n ?? 0,
  } satisfies BucketFigures;
}

/**
 * The index's own recall on these vectors: HNSW over every row, as the owner, with no tenant
 * filter, against the exact top 10 of the whole table. What the buckets' HNSW recall is to be
 * read against: what the filter loses is the difference, not all of the shortfall.
 */
async function baselineRecall(owner: Database, centres: Float32Array[]): Promise<{ mean: number; min: number }> {
  const uniform = prng(SEED + 200);
  const normal = gaussian(uniform);
  const recalls: number[] = [];
  for (let q = 0; q < BASELINE_QUERIES; q += 1) {
    const literal = `[${Array.from(nearCentre(centres[Math.floor(uniform() * CLUSTERS)]!, normal)).join(',')}]`;
    const ids = async (order: string, opening: string) => {
      const sql = `select r.id::text as id from public.analyses r order by ${order} limit ${TOP}`;
      const { rows } = await owner.transaction((tx) => tx.query<{ id: string }>(sql, [literal]), opening);
      return rows.map((row) => row.id);
    };
    const distance = 'r.embedding operator(extensions.<=>) $1::extensions.vector';
    const truth = await ids(`(${distance}) + 0, r.id`, 'set local enable_indexscan = off');
    const found = await ids(distance, `set local hnsw.ef_search = ${VECTOR_SEARCH.efSearch}`);
    recalls.push(found.filter((id) => truth.includes(id)).length / truth.length);
  }
  return { mean: recalls.reduce((sum, r) => sum + r, 0) / recalls.length, min: Math.min(...recalls) };
}

// --- Through the server ------------------------------------------------------------------------

const SEARCH = `query ($v: [Float!]) { search(input: { vector: $v, kinds: [ANALYSIS], mode: SEMANTIC }, first: ${TOP}) {
  edges { score node { ... on Analysis { id } } } } }`;

/** The same queries through GraphQL: the same ids, in the same order, as vectorRanking gave. */
async function graphqlAgreement(url: string, checks: GraphqlCheck[]): Promise<string> {
  let agree = 0;
  const disagreements: string[] = [];
  for (const check of checks) {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await tokenFor(check.tenant)}` },
      body: JSON.stringify({ query: SEARCH, variables: { v: Array.from(check.vector) } }),
    });
    const body = (await response.json()) as {
      data?: { search: { edges: { node: { id?: string } }[] } } | null;
      errors?: { message: string; extensions?: { code?: string } }[];
    };
    if (!body.data?.search) {
      const error = body.errors?.[0];
      const code = error?.extensions?.code ? `, ${error.extensions.code}` : '';
      return `GraphQL path not checked: the search failed (HTTP ${response.status}${code}): ${error?.message ?? JSON.stringify(body).slice(0, 300)}`;
    }
    const ids = body.data.search.edges.map((edge) => rowIdOf(edge.node.id ?? ''));
    if (ids.join() === check.ids.join()) agree += 1;
    else disagreements.push(`  ${check.tenant.bucket} tenant: GraphQL [${ids.slice(0, 3).join(', ')}, …] vs [${check.ids.slice(0, 3).join(', ')}, …]`);
  }
  return [`GraphQL path agrees: ${agree}/${checks.length}`, ...disagreements].join('\n');
}

// --- The run -------------------------------------------------------------------------------------

const pad = (value: string | number, width: number) => String(value).padEnd(width);

/** The command as run: the settings given in the environment (a URL's password hidden), then npm's. */
function commandLine(): string {
  const names = ['DATABASE_URL', 'BENCH_DATABASE', 'BENCH_DATA_DIR', 'BENCH_RELOAD', 'BENCH_ROWS', 'BENCH_QUERIES', 'BENCH_CLUSTERS', 'BENCH_NOISE',
    'BENCH_SEED', 'SEARCH_EXACT_SCAN_ROWS', 'SEARCH_EF_SEARCH', 'SEARCH_MAX_SCAN_TUPLES'];
  const shown = (name: string, value: string) => {
    if (name !== 'DATABASE_URL') return value;
    const url = new URL(value);
    if (url.password) url.password = '***';
    return url.toString();
  };
  return names
    .filter((name) => process.env[name] !== undefined)
    .map((name) => `${name}=${shown(name, process.env[name]!)}`)
    .concat('npm run bench:search')
    .join(' ');
}

async function main(): Promise<void> {
  const started = performance.now();
  console.log(`$ ${commandLine()}`);
  console.log(
    `settings: SEARCH_EXACT_SCAN_ROWS=${VECTOR_SEARCH.exactScanRows} SEARCH_EF_SEARCH=${VECTOR_SEARCH.efSearch} SEARCH_MAX_SCAN_TUPLES=${VECTOR_SEARCH.maxScanTuples}`,
  );
  const { db, load } = await prepared();
  const checks: GraphqlCheck[] = [];
  const figures: BucketFigures[] = [];
  let labelled: LabelledTenant | string;
  let baseline: { mean: number; min: number };
  try {
    const { rows: versions } = await db.owner.query<{ server: string; vector: string }>(
      `select current_setting('server_version') as server, (select extversion from pg_extension where extname = 'vector') as vector`,
    );
    console.log(`database: ${db.label}, PostgreSQL ${versions[0]?.server}, pgvector ${versions[0]?.vector}`);
    console.log(
      `rows: ${ROWS.toLocaleString('en-US')} analyses, ${EMBEDDING_DIMENSIONS}-d unit vectors in ${CLUSTERS} clusters (noise ${NOISE} per coordinate, seed ${SEED}), ` +
        `${BUCKETS.reduce((n, b) => n + b.tenants, 0) + REST_TENANTS} tenants; ${load}`,
    );
    const { rows: tenants } = await db.owner.query<BenchTenant>(
      'select ordinal, bucket, rows, tenant_id::text as "tenantId", user_id::text as "userId", email from bench.search_tenants order by ordinal',
    );
    console.log(await warmCaches(db.owner));
    const centres = clusterCentres();
    for (const { bucket } of BUCKETS) {
      process.stderr.write(`bench:search: measuring the ${bucket} tenants\n`);
      figures.push(await measureBucket(db, bucket, tenants.filter((tenant) => tenant.bucket === bucket), centres, checks));
    }
    process.stderr.write('bench:search: the baseline, HNSW without a filter\n');
    baseline = await baselineRecall(db.owner, centres);
    labelled = await seedLabelledSet(db.owner).catch((error: unknown) => `labelled set not run: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await db.close();
  }

  let graphql: string;
  let labelledReport: string[] = [];
  try {
    const server = await startServer({ ...db.serverEnv });
    try {
      graphql = await graphqlAgreement(server.url, checks);
      if (typeof labelled !== 'string') labelledReport = printLabelledSet(await measureLabelledSet(server.url, labelled));
    } finally {
      await stopServer(server.child);
    }
  } catch (error) {
    graphql = `GraphQL path not checked: the server did not start or answer: ${(error instanceof Error ? error.message : String(error)).slice(0, 500)}`;
  }
  if (typeof labelled === 'string') labelledReport = [labelled];

  console.log(`\nper bucket: ${QUERIES} queries (after ${WARMUP} untimed), top ${TOP}; time = vectorRanking as the tenant's member, client-side, inside the transaction; db = its statements' planning + execution time (EXPLAIN (ANALYZE, TIMING OFF), a second pass)\n`);
  console.log('| tenant share | tenant rows | plan | scan | recall@10 mean | recall@10 min | p50 ms | p99 ms | db p50 ms | other tenants\' rows |');
  console.log('|---|---:|---|---|---:|---:|---:|---:|---:|---:|');
  for (const f of figures) {
    const cells = [
      pad(f.bucket, 5),
      f.tenantRows.map((n) => n.toLocaleString('en-US')).join(', '),
      [...f.plans].join(', '),
      f.scan,
      f.recallMean.toFixed(3),
      f.recallMin.toFixed(2),
      f.p50.toFixed(2),
      f.p99.toFixed(2),
      f.dbP50.toFixed(2),
      f.foreign,
    ];
    console.log(`| ${cells.join(' | ')} |`);
  }
  console.log(
    `\nbaseline, HNSW over all ${ROWS.toLocaleString('en-US')} rows without any filter (owner, ef_search=${VECTOR_SEARCH.efSearch}, ${BASELINE_QUERIES} queries): ` +
      `recall@10 mean ${baseline.mean.toFixed(3)}, min ${baseline.min.toFixed(2)}`,
  );
  console.log(`\n${graphql}`);
  for (const line of labelledReport) console.log(line);
  console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

await main();
