import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createTestGateway, tokenFor } from '../support/gateway.ts';
import { createWorld, insertRow, type World } from '../support/world.ts';

let db: TestDatabase;
let world: World;
let api: ReturnType<typeof createTestGateway>;
const ids: Record<string, string> = {};
const encode = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString('base64');

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
  api = createTestGateway(db);
  const { a, b } = world;
  ids.project = await insertRow(db.owner, 'projects', { tenant_id: a.id, user_id: a.owner.id, name: 'Energy' });
  ids.titlePost = await insertRow(db.owner, 'posts', { tenant_id: a.id, author_id: a.owner.id, title: 'Tidal energy explained', slug: 't', published: true });
  ids.contentPost = await insertRow(db.owner, 'posts', {
    tenant_id: a.id, author_id: a.member.id, title: 'Coastal notes', slug: 'c', published: true, content: 'Tidal currents carry energy twice a day.',
  });
  ids.draft = await insertRow(db.owner, 'posts', { tenant_id: a.id, author_id: a.owner.id, title: 'Tidal draft', slug: 'd' });
  ids.analysis = await insertRow(db.owner, 'analyses', {
    tenant_id: a.id, user_id: a.member.id, project_id: ids.project, type: 'SENTIMENT_ANALYSIS', input: 'Readers found the tidal piece moving',
  });
  ids.loose = await insertRow(db.owner, 'analyses', { tenant_id: a.id, user_id: a.member.id, type: 'SENTIMENT_ANALYSIS', input: 'Tidal turbines are noisy' });
  // Tenant b's rows match better than any of a's: they must still never appear for a.
  ids.bPost = await insertRow(db.owner, 'posts', { tenant_id: b.id, author_id: b.owner.id, title: 'Tidal tidal tidal', slug: 'b', published: true });
  ids.bDraft = await insertRow(db.owner, 'posts', { tenant_id: b.id, author_id: b.owner.id, title: 'Tidal secrets', slug: 'bd' });
  ids.bAnalysis = await insertRow(db.owner, 'analyses', { tenant_id: b.id, user_id: b.owner.id, type: 'SENTIMENT_ANALYSIS', input: 'tidal tidal tidal' });
});
afterAll(() => db?.close());

const SEARCH = `query($input: SearchInput!, $first: Int, $after: String) {
  search(input: $input, first: $first, after: $after) {
    edges { cursor score node { __typename ... on Post { id title author { email } } ... on Analysis { id input } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

interface Edge { cursor: string; score: number; node: { __typename: string; id: string } }
type Search = { search: { edges: Edge[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };

async function search(token: string | undefined, input: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  // Full-text ranking alone: these rows have no embeddings (tests/api/semantic-search.test.ts covers the rest).
  return api.graphql<Search>(SEARCH, { token, variables: { input: { mode: 'KEYWORD', ...input }, ...extra } });
}
const nodeIds = (edges: Edge[]) => edges.map((edge) => edge.node.id);

describe('search', () => {
  it("finds the active tenant's posts and analyses, best match first, never another tenant's", async () => {
    const response = await search(await tokenFor(world.a.member, world.a.id), { text: 'tidal' });
    expect(response.body.errors).toBeUndefined();
    const edges = response.body.data!.search.edges;
    expect(nodeIds(edges).sort()).toEqual(
      [encode('Post', ids.titlePost!), encode('Post', ids.contentPost!), encode('Post', ids.draft!), encode('Analysis', ids.analysis!), encode('Analysis', ids.loose!)].sort(),
    );
    for (const foreign of [ids.bPost, ids.bDraft]) expect(nodeIds(edges)).not.toContain(encode('Post', foreign!));
    expect(nodeIds(edges)).not.toContain(encode('Analysis', ids.bAnalysis!));
    const scores = edges.map((edge) => edge.score);
    expect(scores).toEqual([...scores].sort((x, y) => y - x));
    // Title (weight A) above content (weight C) for the same words.
    expect(nodeIds(edges).indexOf(encode('Post', ids.titlePost!))).toBeLessThan(nodeIds(edges).indexOf(encode('Post', ids.contentPost!)));
  });

  it('resolves each node as the caller, relations included', async () => {
    const response = await search(await tokenFor(world.a.viewer, world.a.id), { text: 'tidal energy', kinds: ['POST'] });
    const first = response.body.data!.search.edges[0]!.node as unknown as { title: string; author: { email: string } };
    expect(first).toMatchObject({ title: 'Tidal energy explained', author: { email: world.a.owner.email } });
  });

  it('gives signed-out callers published posts only, across tenants', async () => {
    const response = await search(undefined, { text: 'tidal' });
    expect(nodeIds(response.body.data!.search.edges).sort()).toEqual(
      [encode('Post', ids.titlePost!), encode('Post', ids.contentPost!), encode('Post', ids.bPost!)].sort(),
    );
  });

  it('filters by kind and by project', async () => {
    const token = await tokenFor(world.a.owner, world.a.id);
    const analyses = await search(token, { text: 'tidal', kinds: ['ANALYSIS'] });
    expect(analyses.body.data!.search.edges.every((edge) => edge.node.__typename === 'Analysis')).toBe(true);
    const inProject = await search(token, { text: 'tidal', projectId: encode('Project', ids.project!) });
    expect(nodeIds(inProject.body.data!.search.edges)).toEqual([encode('Analysis', ids.analysis!)]);
  });

  it('pages with first and after until the end, each hit once', async () => {
    const token = await tokenFor(world.a.member, world.a.id);
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const response = await search(token, { text: 'tidal' }, { first: 2, after });
      const { edges, pageInfo } = response.body.data!.search;
      seen.push(...nodeIds(edges));
      if (!pageInfo.hasNextPage) break;
      after = pageInfo.endCursor;
    }
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
  });

  it('refuses bad input with stable codes', async () => {
    const token = await tokenFor(world.a.member, world.a.id);
    for (const [input, extra] of [
      [{ text: '   ' }, {}],
      [{ text: 'x'.repeat(201) }, {}],
      [{ text: 'tidal' }, { first: 51 }],
      [{ text: 'tidal' }, { first: -1 }],
      [{ text: 'tidal' }, { after: 'not-a-cursor' }],
      [{ text: 'tidal' }, { after: Buffer.from('SR:5000').toString('base64') }],
      [{ text: 'tidal' }, { after: Buffer.from('SR:99999999999').toString('base64') }],
    ] as const) {
      const response = await search(token, input, extra);
      expect(response.body.errors?.[0]?.extensions?.code, JSON.stringify([input, extra])).toBe('VALIDATION_FAILED');
    }
    // Web-search syntax never errors: stray operators are words or nothing.
    const odd = await search(token, { text: `"unclosed -or OR & | ! ( ) :*` });
    expect(odd.body.errors).toBeUndefined();
  });

  it('refuses a signed-in caller without an active tenant', async () => {
    const response = await search(await tokenFor(world.outsider), { text: 'tidal' });
    expect(response.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
