import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClaims } from '../../src/session/claims.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createTestGateway, tokenFor } from '../support/gateway.ts';
import { claimsOf, createWorld, insertRow, type World } from '../support/world.ts';

let db: TestDatabase;
let world: World;
let gateways: Record<string, ReturnType<typeof createTestGateway>>;
let crowded: string;

// One project with many analyses, a few with some; the page asks for far fewer than the crowd.
const CROWD = 400;
const PAGE = 3;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
  // The planner's one statement and Prisma's field-by-field statements must both stay O(page).
  gateways = { planned: createTestGateway(db), 'field by field': createTestGateway(db, { plannedReads: false }) };
  crowded = await insertRow(db.owner, 'projects', { tenant_id: world.a.id, user_id: world.a.owner.id, name: 'crowded' });
  await db.owner.query(
    `insert into public.analyses (tenant_id, user_id, project_id, type, input, created_at)
     select $1, $2, $3, 'SENTIMENT_ANALYSIS', 'crowd ' || i, now() - i * interval '1 second' from generate_series(1, $4) as i`,
    [world.a.id, world.a.owner.id, crowded, CROWD],
  );
  for (let p = 0; p < 4; p++) {
    const project = await insertRow(db.owner, 'projects', { tenant_id: world.a.id, user_id: world.a.owner.id, name: `small ${p}` });
    await db.owner.query(
      `insert into public.analyses (tenant_id, user_id, project_id, type, input)
       select $1, $2, $3, 'SENTIMENT_ANALYSIS', 'small ' || i from generate_series(1, 5) as i`,
      [world.a.id, world.a.owner.id, project],
    );
  }
  // Analyses of the same tenant outside any project, as real tenants have: a plan that walks the
  // tenant's analyses and filters by project would read these too, so only the per-project page is cheap.
  await db.owner.query(
    `insert into public.analyses (tenant_id, user_id, type, input)
     select $1, $2, 'SENTIMENT_ANALYSIS', 'loose ' || i from generate_series(1, 2000) as i`,
    [world.a.id, world.a.owner.id],
  );
  // Another tenant's analyses in the same table: never counted, never returned.
  const foreign = await insertRow(db.owner, 'projects', { tenant_id: world.b.id, user_id: world.b.owner.id, name: 'foreign' });
  await db.owner.query(
    `insert into public.analyses (tenant_id, user_id, project_id, type, input)
     select $1, $2, $3, 'SENTIMENT_ANALYSIS', 'foreign ' || i from generate_series(1, 50) as i`,
    [world.b.id, world.b.owner.id, foreign],
  );
  await db.owner.exec('analyze public.projects; analyze public.analyses; analyze public.users');
});
afterAll(() => db?.close());

// A nested totalCount has to count every child, so the page alone is what must stay O(page).
const pageQuery = (first: number, { childCount = false } = {}) => `{
  projects(first: 10) {
    totalCount
    edges { node { id name owner { id name } analyses(first: ${first}) { ${childCount ? 'totalCount' : ''} edges { node { id type status createdAt } } } } }
  }
}`;

type Page = {
  projects: {
    totalCount: number;
    edges: { node: { name: string; analyses: { totalCount: number; edges: { node: { id: string } }[] } } }[];
  };
};

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  Plans?: PlanNode[];
}

function* nodes(plan: PlanNode): Generator<PlanNode> {
  yield plan;
  for (const child of plan.Plans ?? []) yield* nodes(child);
}

describe.each(['planned', 'field by field'])('a nested connection page, %s', (path) => {
  const api = () => gateways[path]!;

  it('returns the page of each parent, counts all of them, and leaves other tenants out', async () => {
    const response = await api().graphql<Page>(pageQuery(PAGE, { childCount: true }), { token: await tokenFor(world.a.member, world.a.id) });
    expect(response.body.errors).toBeUndefined();
    const projects = response.body.data!.projects;
    expect(projects.totalCount).toBe(5);
    const byName = new Map(projects.edges.map(({ node }) => [node.name, node.analyses]));
    expect(byName.get('crowded')).toMatchObject({ totalCount: CROWD });
    expect(byName.get('crowded')!.edges).toHaveLength(PAGE);
    for (let p = 0; p < 4; p++) expect(byName.get(`small ${p}`)).toMatchObject({ totalCount: 5, edges: { length: PAGE } });
    expect(byName.has('foreign')).toBe(false);
  });

  it('asks the database for at most first + 1 rows per parent, however many children the parent has', async () => {
    db.statements.length = 0;
    const response = await api().graphql<Page>(pageQuery(PAGE), { token: await tokenFor(world.a.member, world.a.id) });
    expect(response.body.errors).toBeUndefined();
    const page = db.statements.find((sql) => /"(public"\.")?analyses"/.test(sql) && !/^SELECT COUNT/i.test(sql));
    expect(page, 'the statement that reads the analyses').toBeDefined();
    // Re-run that exact statement as the same caller, under EXPLAIN ANALYZE, and read what each step produced.
    const [{ 'QUERY PLAN': [explained] }] = (await withClaims(db.gateway, claimsOf(world.a.member, world.a.id), (tx) =>
      tx.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`explain (analyze, format json) ${page!}`, db.lastParams.get(page!)),
    )).rows as [{ 'QUERY PLAN': [{ Plan: PlanNode }] }];
    const reads = [...nodes(explained.Plan)].filter((node) => node['Relation Name'] === 'analyses');
    expect(reads.length, 'a step that reads analyses').toBeGreaterThan(0);
    for (const read of reads) {
      // Per loop (per parent project): the page and one more to know whether a next page exists.
      expect(read['Actual Rows'], `${read['Node Type']} on analyses`).toBeLessThanOrEqual(PAGE + 1);
    }
  });

  it('costs the same number of statements whatever the page size', async () => {
    const token = await tokenFor(world.a.member, world.a.id);
    const counts: number[] = [];
    for (const first of [1, 5, 50]) {
      db.statements.length = 0;
      const response = await api().graphql(pageQuery(first), { token });
      expect(response.body.errors).toBeUndefined();
      counts.push(db.statements.length);
    }
    expect(new Set(counts).size).toBe(1);
  });
});
