import type { Queryable } from '../db/database.ts';

// The two rankings search fuses, each one statement as the caller (row-level security filters
// every row they read), and the fusion itself. Kept apart from the GraphQL layer so the
// benchmark (bench/search.ts) measures exactly the statements the API runs.

export type SearchKind = 'ANALYSIS' | 'POST';

/** Where the statements run: the request's transaction as the caller (or any Queryable in it). */
export type Statements = Pick<Queryable, 'query'>;

/** What narrows a search besides the caller's policies. Null is "any". */
export interface SearchScope {
  /** The active tenant; null when signed out (published posts of every tenant, as the policies show). */
  tenantId: string | null;
  projectId: string | null;
  /** Analyses only: their status and type. */
  status: string | null;
  type: string | null;
  createdAfter: Date | null;
  createdBefore: Date | null;
  /** A row to leave out (the row `similar` starts from). */
  excludeId: string | null;
}

export interface Ranked {
  kind: SearchKind;
  id: string;
  score: number;
}

const TABLE: Record<SearchKind, string> = { ANALYSIS: 'public.analyses', POST: 'public.posts' };

/** Conditions on alias `r` of a kind's table, as SQL over the parameters it appends to `params`. */
function conditions(kind: SearchKind, scope: SearchScope, params: unknown[]): string[] {
  const add = (value: unknown, cast: string) => `$${params.push(value)}::${cast}`;
  const where: string[] = [];
  if (scope.tenantId !== null) where.push(`r.tenant_id = ${add(scope.tenantId, 'uuid')}`);
  if (kind === 'ANALYSIS') {
    if (scope.projectId !== null) where.push(`r.project_id = ${add(scope.projectId, 'uuid')}`);
    if (scope.status !== null) where.push(`r.status = ${add(scope.status, 'public.analysis_status')}`);
    if (scope.type !== null) where.push(`r.type = ${add(scope.type, 'public.analysis_type')}`);
  }
  if (scope.createdAfter !== null) where.push(`r.created_at >= ${add(scope.createdAfter.toISOString(), 'timestamptz')}`);
  if (scope.createdBefore !== null) where.push(`r.created_at < ${add(scope.createdBefore.toISOString(), 'timestamptz')}`);
  if (scope.excludeId !== null) where.push(`r.id <> ${add(scope.excludeId, 'uuid')}`);
  return where;
}

/** Full-text ranking (ts_rank of websearch_to_tsquery over the weighted search_document), best first. */
export async function keywordRanking(tx: Statements, text: string, kinds: readonly SearchKind[], scope: SearchScope, limit: number): Promise<Ranked[]> {
  const params: unknown[] = [text];
  const parts = kinds.map((kind) => {
    const where = ['r.search_document @@ q.query', ...conditions(kind, scope, params)];
    return `select '${kind}' as kind, r.id, ts_rank(r.search_document, q.query) as score
      from ${TABLE[kind]} r, q where ${where.join(' and ')}`;
  });
  const sql = `with q as (select websearch_to_tsquery('english', $1::text) as query)
    select kind, id::text as id, score::float8 as score from (${parts.join(' union all ')}) hits
    order by score desc, id limit $${params.push(limit)}::int`;
  const { rows } = await tx.query<Ranked>(sql, params);
  return rows;
}

/**
 * How vector search keeps its recall inside one tenant. An HNSW index is built over every
 * tenant's rows, so filtering its walk by tenant (by policy or by a `where`) drops true
 * neighbours when the tenant holds a small share of the table. A tenant with at most
 * EXACT_SCAN_ROWS rows of a kind is therefore searched exactly (every embedding of
 * the tenant compared with the query, read from the tenant's covering index
 * `<table>_tenant_id_embedding_idx` without touching the table); a larger one walks the HNSW index
 * with pgvector's iterative scan, which keeps walking until enough rows pass the filter, with a
 * wide candidate list. Figures: README "Search", `npm run bench:search`.
 */
export const VECTOR_SEARCH = {
  exactScanRows: Number(process.env.SEARCH_EXACT_SCAN_ROWS ?? 10_000),
  efSearch: Number(process.env.SEARCH_EF_SEARCH ?? 150),
  /** Rows the iterative scan may visit before it stops (hnsw.max_scan_tuples). */
  maxScanTuples: Number(process.env.SEARCH_MAX_SCAN_TUPLES ?? 50_000),
};

export const vectorLiteral = (vector: ArrayLike<number>) => `[${Array.from(vector).join(',')}]`;

/** How one kind's nearest rows were found: the benchmark reports it per tenant bucket. */
export type VectorPlan = 'exact' | 'hnsw';

export interface NearestResult {
  ranked: Ranked[];
  plans: VectorPlan[];
}

/** The rows nearest to `vector` by cosine distance, closest first; score is cosine similarity. */
export async function vectorRanking(tx: Statements, vector: ArrayLike<number>, kinds: readonly SearchKind[], scope: SearchScope, limit: number): Promise<NearestResult> {
  const literal = vectorLiteral(vector);
  const plans: VectorPlan[] = [];
  const all: Ranked[] = [];
  let hnswConfigured = false;
  for (const kind of kinds) {
    const plan = await choosePlan(tx, kind, scope);
    if (plan === 'hnsw' && !hnswConfigured) {
      await tx.query(
        `select set_config('hnsw.iterative_scan', 'relaxed_order', true), set_config('hnsw.ef_search', $1, true),
                set_config('hnsw.max_scan_tuples', $2, true)`,
        [String(VECTOR_SEARCH.efSearch), String(VECTOR_SEARCH.maxScanTuples)],
      );
      hnswConfigured = true;
    }
    plans.push(plan);
    const params: unknown[] = [literal];
    const where = ['r.embedding is not null', ...conditions(kind, scope, params)];
    const limitParam = `$${params.push(limit)}::int`;
    // Exact: `offset 0` keeps the subquery apart, so no index can serve its order and every
    // row of the tenant is compared. HNSW: the index serves the inner order; relaxed order may
    // return neighbours slightly out of order, so the outer query sorts them again.
    const inner =
      plan === 'exact'
        ? `select r.id, r.embedding operator(extensions.<=>) $1::extensions.vector as distance from ${TABLE[kind]} r where ${where.join(' and ')} offset 0`
        : `select r.id, r.embedding operator(extensions.<=>) $1::extensions.vector as distance from ${TABLE[kind]} r where ${where.join(' and ')}
           order by r.embedding operator(extensions.<=>) $1::extensions.vector limit ${limitParam}`;
    const { rows } = await tx.query<{ id: string; distance: number }>(
      `select id::text as id, distance::float8 as distance from (${inner}) nearest order by distance, id limit ${limitParam}`,
      params,
    );
    for (const row of rows) all.push({ kind, id: row.id, score: 1 - Number(row.distance) });
  }
  all.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
  return { ranked: all.slice(0, limit), plans };
}

/**
 * Tenants' sizes as last counted, per process. A size only chooses between two correct plans,
 * and tenants grow slowly, so it is counted again only after TENANT_SIZE_TTL_MS.
 */
const tenantSizes = new Map<string, { rows: number; countedAt: number }>();
const TENANT_SIZE_TTL_MS = 60_000;
const TENANT_SIZES_KEPT = 10_000;

/** Exact for a tenant of at most EXACT_SCAN_ROWS rows of the kind. */
async function choosePlan(tx: Statements, kind: SearchKind, scope: SearchScope): Promise<VectorPlan> {
  // Signed out, the published posts of every tenant are one large set: the index serves it.
  if (scope.tenantId === null) return 'hnsw';
  const key = `${kind}:${scope.tenantId}`;
  const now = Date.now();
  let known = tenantSizes.get(key);
  if (!known || now - known.countedAt > TENANT_SIZE_TTL_MS) {
    const { rows } = await tx.query<{ n: number }>(
      // All the tenant's rows, embedded or not: a slim tenant index counts them (the covering
      // index would read 1.5 KB per row just to count it).
      `select count(*)::int as n from (select 1 from ${TABLE[kind]} r where r.tenant_id = $1::uuid limit $2::int) tenant_rows`,
      [scope.tenantId, VECTOR_SEARCH.exactScanRows + 1],
    );
    known = { rows: rows[0]?.n ?? 0, countedAt: now };
    if (tenantSizes.size >= TENANT_SIZES_KEPT) tenantSizes.clear();
    tenantSizes.set(key, known);
  }
  return known.rows > VECTOR_SEARCH.exactScanRows ? 'hnsw' : 'exact';
}

/** Forgets the counted tenant sizes (tests that change the threshold or a tenant's rows). */
export function forgetTenantSizes(): void {
  tenantSizes.clear();
}

/** Reciprocal rank fusion (Cormack et al., 2009): each list adds 1 / (k + rank) for every row it holds. */
export function reciprocalRankFusion(lists: readonly Ranked[][], k = 60): Ranked[] {
  const fused = new Map<string, Ranked>();
  for (const list of lists) {
    list.forEach((hit, index) => {
      const key = `${hit.kind}:${hit.id}`;
      const score = 1 / (k + index + 1);
      const seen = fused.get(key);
      if (seen) seen.score += score;
      else fused.set(key, { kind: hit.kind, id: hit.id, score });
    });
  }
  return [...fused.values()].sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
}
