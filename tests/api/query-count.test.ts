import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createTestGateway } from '../support/gateway.ts';
import { createWorld, type World } from '../support/world.ts';

let db: TestDatabase;
let world: World;
let api: ReturnType<typeof createTestGateway>;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
  api = createTestGateway(db);
  // 50 projects, each with three analyses by different members.
  await db.owner.query(
    `insert into public.projects (tenant_id, user_id, name)
     select $1, (array[$2, $3, $4])[1 + n % 3]::uuid, 'Project ' || n from generate_series(1, 50) n`,
    [world.a.id, world.a.owner.id, world.a.admin.id, world.a.member.id],
  );
  await db.owner.query(
    `insert into public.analyses (tenant_id, user_id, project_id, type, input)
     select p.tenant_id, (array[$2, $3, $4])[1 + k]::uuid, p.id, 'TEXT_ANALYSIS', 'input ' || k
     from public.projects p, generate_series(0, 2) k where p.tenant_id = $1`,
    [world.a.id, world.a.owner.id, world.a.admin.id, world.a.member.id],
  );
});
afterAll(() => db?.close());

const NESTED = `query ($first: Int!) {
  projects(first: $first) {
    totalCount
    edges { node { name owner { name email }
      analyses(first: 10) { totalCount edges { node { status type requestedBy { name email } } } } } }
  }
}`;

async function statementsFor(first: number) {
  db.statements.length = 0;
  const response = await api.as<{ projects: { edges: { node: { analyses: { edges: { node: { requestedBy: { name: string } } }[] } } }[] } }>(
    world.a.viewer,
    world.a.id,
    NESTED,
    { first },
  );
  expect(response.body.errors).toBeUndefined();
  const projects = response.body.data!.projects.edges;
  expect(projects).toHaveLength(first);
  for (const { node } of projects) {
    expect(node.analyses.edges).toHaveLength(3);
    for (const analysis of node.analyses.edges) expect(analysis.node.requestedBy.name).toBeTruthy();
  }
  return [...db.statements];
}

describe('a nested query', () => {
  it('issues the same small number of SQL statements for 5 projects as for 50', async () => {
    const five = await statementsFor(5);
    const fifty = await statementsFor(50);
    expect(fifty.length).toBe(five.length);
    expect(fifty.length).toBeLessThanOrEqual(12);
  });

  it('batches node(id) lookups of one operation into one statement per type', async () => {
    const { rows } = await db.owner.query<{ id: string }>('select id from public.projects where tenant_id = $1 order by name limit 10', [world.a.id]);
    const ids = rows.map((row) => Buffer.from(`Project:${row.id}`).toString('base64'));
    const query = 'query ($ids: [ID!]!) { nodes(ids: $ids) { id ... on Project { name } } }';
    // Field by field, the DataLoader batches the ten lookups; planned, the operation is one statement.
    for (const gateway of [createTestGateway(db, { plannedReads: false }), api]) {
      db.statements.length = 0;
      const response = await gateway.as<{ nodes: { id: string }[] }>(world.a.viewer, world.a.id, query, { ids });
      expect(response.body.data!.nodes).toHaveLength(10);
      const projectSelects = db.statements.filter((sql) => /from "(public"\.")?projects"/i.test(sql));
      expect(projectSelects).toHaveLength(1);
    }
  });
});
