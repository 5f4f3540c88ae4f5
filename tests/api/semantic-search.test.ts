import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDING_DIMENSIONS } from '../../src/ai/provider.ts';
import { forgetTenantSizes, type SearchScope, VECTOR_SEARCH, vectorLiteral, vectorRanking } from '../../src/search/ranking.ts';
import { withClaims } from '../../src/session/claims.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createTestGateway, tokenFor } from '../support/gateway.ts';
import { claimsOf, createWorld, type World } from '../support/world.ts';

// Vector and hybrid search through the API, with embeddings written directly (as an import
// would) so every distance is known: what is found, in which order, and what never is.
let db: TestDatabase;
let world: World;
let api: ReturnType<typeof createTestGateway>;
const decode = (id: string) => Buffer.from(id, 'base64').toString();
const encode = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString('base64');

/** A seeded generator, so a failure reproduces. */
function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const next = random(7);
const gaussian = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
const unit = (values: number[]) => {
  const length = Math.hypot(...values);
  return values.map((value) => value / length);
};
const randomUnit = () => unit(Array.from({ length: EMBEDDING_DIMENSIONS }, gaussian));
/** `base` moved a little: the larger `noise`, the further. */
const near = (base: number[], noise: number) => unit(base.map((value) => value + noise * gaussian()));

const query = randomUnit();
const NO_FILTERS: SearchScope = { tenantId: null, projectId: null, status: null, type: null, createdAfter: null, createdBefore: null, excludeId: null };
const ids: Record<string, string> = {};

async function insert(table: 'posts' | 'analyses', values: Record<string, unknown>, embedding: number[]): Promise<string> {
  const columns = [...Object.keys(values), 'embedding', 'embedding_model'];
  const params = [...Object.values(values), vectorLiteral(embedding), 'test'];
  const { rows } = await db.owner.query<{ id: string }>(
    `insert into public.${table} (${columns.join(', ')}) values (${columns.map((_, i) => `$${i + 1}`).join(', ')}) returning id`,
    params,
  );
  return rows[0]!.id;
}

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
  api = createTestGateway(db);
  const { a, b } = world;
  // Tenant b holds the row nearest to the query; it must never appear for a.
  ids.bNearest = await insert('analyses', { tenant_id: b.id, user_id: b.owner.id, type: 'TEXT_ANALYSIS', input: 'b nearest', status: 'COMPLETED' }, query);
  ids.bPost = await insert('posts', { tenant_id: b.id, author_id: b.owner.id, title: 'b published', slug: 'bp', published: true }, near(query, 0.01));
  ids.close = await insert('analyses', { tenant_id: a.id, user_id: a.member.id, type: 'TEXT_ANALYSIS', input: 'close', status: 'COMPLETED' }, near(query, 0.05));
  ids.middle = await insert('analyses', { tenant_id: a.id, user_id: a.member.id, type: 'SENTIMENT_ANALYSIS', input: 'middle', status: 'PENDING' }, near(query, 0.1));
  ids.far = await insert('analyses', { tenant_id: a.id, user_id: a.member.id, type: 'TEXT_ANALYSIS', input: 'far', status: 'COMPLETED' }, randomUnit());
  ids.published = await insert('posts', { tenant_id: a.id, author_id: a.owner.id, title: 'published', slug: 'p', published: true }, near(query, 0.07));
  ids.draft = await insert('posts', { tenant_id: a.id, author_id: a.owner.id, title: 'draft', slug: 'd' }, near(query, 0.02));
});
afterAll(() => db?.close());

const SEARCH = `query($input: SearchInput!, $first: Int) {
  search(input: $input, first: $first) { edges { score node { __typename ... on Post { id } ... on Analysis { id } } } }
}`;
type Edges = { search: { edges: { score: number; node: { id: string } }[] } };

async function search(token: string | undefined, input: Record<string, unknown>, first = 10) {
  const response = await api.graphql<Edges>(SEARCH, { token, variables: { input, first } });
  return response;
}
const found = async (token: string | undefined, input: Record<string, unknown>, first = 10) => {
  const response = await search(token, input, first);
  expect(response.body.errors).toBeUndefined();
  return response.body.data!.search.edges.map((edge) => decode(edge.node.id).split(':')[1]);
};

describe('semantic search', () => {
  it("ranks the active tenant's rows by cosine similarity, never another tenant's nearer ones", async () => {
    const token = await tokenFor(world.a.member, world.a.id);
    const response = await search(token, { vector: query, mode: 'SEMANTIC' });
    const edges = response.body.data!.search.edges;
    expect(edges.map((edge) => decode(edge.node.id).split(':')[1])).toEqual([ids.draft, ids.close, ids.published, ids.middle, ids.far]);
    expect(edges[0]!.score).toBeGreaterThan(0.9);
    expect(edges.map((edge) => edge.score)).toEqual([...edges.map((edge) => edge.score)].sort((x, y) => y - x));
    for (const foreign of [ids.bNearest, ids.bPost]) expect(edges.map((edge) => decode(edge.node.id))).not.toContainEqual(expect.stringContaining(foreign!));
  });

  it('shows signed-out callers published posts only, of every tenant', async () => {
    expect(await found(undefined, { vector: query, mode: 'SEMANTIC' })).toEqual([ids.bPost, ids.published]);
  });

  it('applies the filters: kinds, status, type and dates', async () => {
    const token = await tokenFor(world.a.member, world.a.id);
    expect(await found(token, { vector: query, mode: 'SEMANTIC', kinds: ['POST'] })).toEqual([ids.draft, ids.published]);
    expect(await found(token, { vector: query, mode: 'SEMANTIC', status: 'COMPLETED' })).toEqual([ids.close, ids.far]);
    expect(await found(token, { vector: query, mode: 'SEMANTIC', type: 'SENTIMENT_ANALYSIS' })).toEqual([ids.middle]);
    expect(await found(token, { vector: query, mode: 'SEMANTIC', createdAfter: new Date(Date.now() + 60_000).toISOString() })).toEqual([]);
  });

  it('refuses a vector of the wrong length, or without direction, with a stable code', async () => {
    const token = await tokenFor(world.a.member, world.a.id);
    for (const vector of [[1, 2, 3], new Array(EMBEDDING_DIMENSIONS).fill(0)]) {
      const response = await search(token, { vector, mode: 'SEMANTIC' });
      expect(response.body.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
    }
    const neither = await search(token, { mode: 'HYBRID' });
    expect(neither.body.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
    const keywordWithoutWords = await search(token, { vector: query, mode: 'KEYWORD' });
    expect(keywordWithoutWords.body.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
  });

  it('fuses keyword and vector rankings in HYBRID mode', async () => {
    const token = await tokenFor(world.a.member, world.a.id);
    // "far" matches the words only; "close" the vector only: both are found, and the row both
    // rankings hold comes first.
    const hybrid = await found(token, { text: 'far', vector: query, kinds: ['ANALYSIS'] });
    expect(hybrid).toContain(ids.far);
    expect(hybrid).toContain(ids.close);
    expect(await found(token, { text: 'far', vector: query, kinds: ['ANALYSIS'], mode: 'KEYWORD' })).toEqual([ids.far]);
  });
});

describe('similar', () => {
  const SIMILAR = `query($id: ID!, $first: Int) { similar(id: $id, first: $first) { edges { score node { ... on Post { id } ... on Analysis { id } } } } }`;

  it('finds the nearest rows to one the caller can read, leaving it out', async () => {
    const token = await tokenFor(world.a.member, world.a.id);
    const response = await api.graphql<{ similar: Edges['search'] }>(SIMILAR, { token, variables: { id: encode('Analysis', ids.close!), first: 3 } });
    expect(response.body.errors).toBeUndefined();
    const got = response.body.data!.similar.edges.map((edge) => decode(edge.node.id).split(':')[1]);
    expect(got).toEqual([ids.draft, ids.published, ids.middle]);
  });

  it("answers NOT_FOUND for another tenant's row, giving away none of its neighbours", async () => {
    const token = await tokenFor(world.a.member, world.a.id);
    const response = await api.graphql(SIMILAR, { token, variables: { id: encode('Analysis', ids.bNearest!) } });
    expect(response.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});

describe('recall inside a tenant', () => {
  it('finds the exact top 10 for every tenant, by exact scan and by the HNSW index alike', async () => {
    const centres = Array.from({ length: 20 }, randomUnit);
    // Tenant a holds a quarter of the rows, b three quarters; both share the clusters.
    const tenants = [
      { user: world.a.member, id: world.a.id, size: 400 },
      { user: world.b.member, id: world.b.id, size: 1_200 },
    ];
    for (const { user, id, size } of tenants) {
      const vectors = Array.from({ length: size }, (_, n) => vectorLiteral(near(centres[n % centres.length]!, 0.6)));
      await db.owner.query(
        `insert into public.analyses (tenant_id, user_id, type, input, status, embedding, embedding_model)
         select $1, $2, 'TEXT_ANALYSIS', 'generated', 'COMPLETED', v::extensions.vector, 'test' from unnest($3::text[]) as v`,
        [id, user.id, vectors],
      );
    }
    await db.owner.exec('analyze public.analyses');
    const saved = VECTOR_SEARCH.exactScanRows;
    try {
      // 5,000: both tenants are compared row by row; 300: both walk the HNSW index.
      for (const threshold of [5_000, 300]) {
        VECTOR_SEARCH.exactScanRows = threshold;
        forgetTenantSizes();
        for (const tenant of tenants) {
          // The plan the threshold chose, as the API's statements see it.
          const { plans } = await withClaims(db.gateway, claimsOf(tenant.user, tenant.id), (tx) =>
            vectorRanking(tx, centres[0]!, ['ANALYSIS'], { ...NO_FILTERS, tenantId: tenant.id }, 10),
          );
          expect(plans).toEqual([threshold === 5_000 ? 'exact' : 'hnsw']);
          const token = await tokenFor(tenant.user, tenant.id);
          let hits = 0;
          const queries = 10;
          for (let q = 0; q < queries; q += 1) {
            const vector = near(centres[q]!, 0.6);
            const { rows } = await db.owner.query<{ id: string }>(
              `select id::text as id from (select id, embedding operator(extensions.<=>) $1::extensions.vector as d from public.analyses
                 where tenant_id = $2 and embedding is not null offset 0) s order by d limit 10`,
              [vectorLiteral(vector), tenant.id],
            );
            const exact = new Set(rows.map((row) => row.id));
            const got = await found(token, { vector, mode: 'SEMANTIC', kinds: ['ANALYSIS'] });
            hits += got.filter((id) => exact.has(id!)).length;
          }
          expect({ threshold, tenant: tenant.size, recall: hits / (queries * 10) }).toEqual({
            threshold,
            tenant: tenant.size,
            recall: threshold === 5_000 ? 1 : expect.toSatisfy((recall: number) => recall >= 0.98),
          });
        }
      }
    } finally {
      VECTOR_SEARCH.exactScanRows = saved;
      forgetTenantSizes();
    }
  });
});
