import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABELLED_POSTS, LABELLED_QUERIES } from '../../bench/search-labelled.ts';
import { localProvider } from '../../src/ai/local.ts';
import { Worker } from '../../src/worker/worker.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createTestGateway } from '../support/gateway.ts';
import { createWorld, insertRow, type World } from '../support/world.ts';

// The labelled set of bench:search as a test: posts embedded by the real pipeline (trigger,
// worker, local provider), then queries in other words than the posts use. Full-text search
// alone cannot find them; HYBRID, with the local provider's vectors, must.
let db: TestDatabase;
let world: World;
let api: ReturnType<typeof createTestGateway>;
const local = localProvider();
const keyOf = new Map<string, string>();

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
  api = createTestGateway(db, { ai: local });
  for (const post of LABELLED_POSTS) {
    const id = await insertRow(db.owner, 'posts', {
      tenant_id: world.a.id, author_id: world.a.owner.id, title: post.title, content: post.content, slug: post.key, published: true,
    });
    keyOf.set(id, post.key);
  }
  await new Worker({ db: db.gateway, provider: local }).drain();
}, 180_000);
afterAll(() => db?.close());

async function foundKeys(mode: string, text: string): Promise<string[]> {
  const response = await api.as<{ search: { edges: { node: { id: string } }[] } }>(
    world.a.member,
    world.a.id,
    'query ($input: SearchInput!) { search(input: $input, first: 5) { edges { node { ... on Post { id } } } } }',
    { input: { text, mode, kinds: ['POST'] } },
  );
  expect(response.body.errors).toBeUndefined();
  return response.body.data!.search.edges.map((edge) => keyOf.get(Buffer.from(edge.node.id, 'base64').toString().split(':')[1]!)!);
}

describe('hybrid search against a labelled set', () => {
  it('finds what the queries mean where full-text search finds nothing', async () => {
    const hits = { KEYWORD: 0, HYBRID: 0 };
    for (const query of LABELLED_QUERIES) {
      for (const mode of ['KEYWORD', 'HYBRID'] as const) {
        const keys = await foundKeys(mode, query.text);
        if (query.expect.some((key) => keys.includes(key))) hits[mode] += 1;
      }
    }
    expect(hits.HYBRID).toBeGreaterThan(hits.KEYWORD);
    expect(hits.HYBRID).toBeGreaterThanOrEqual(LABELLED_QUERIES.length - 2);
  });
});
