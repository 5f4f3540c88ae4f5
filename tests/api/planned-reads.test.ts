import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyReferencingId } from '../../src/schema/plan/compile.ts';
import { modelsOf, type RuntimeDataModel } from '../../src/schema/plan/sql.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createTestGateway, tokenFor } from '../support/gateway.ts';
import { createWorld, insertRow, type World, type WorldUser } from '../support/world.ts';

// Differential: every query runs through the planner (one statement) and field by field
// (plannedReads: false); the two responses must be identical, for every caller.
let db: TestDatabase;
let world: World;
let planned: ReturnType<typeof createTestGateway>;
let resolved: ReturnType<typeof createTestGateway>;
const ids: Record<string, string> = {};

const encode = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString('base64');

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
  planned = createTestGateway(db);
  resolved = createTestGateway(db, { plannedReads: false });
  const { a, b } = world;
  // Rows created in one statement share created_at: the id breaks the tie, in both paths.
  for (const [tenant, label] of [[a, 'a'], [b, 'b']] as const) {
    for (let p = 0; p < 4; p++) {
      const project = await insertRow(db.owner, 'projects', {
        tenant_id: tenant.id,
        user_id: p % 2 ? tenant.member.id : tenant.owner.id,
        name: `${label} project ${p}`,
        description: p === 0 ? null : `about "${label}" ${p} \\ with ünïcode`,
        metadata: JSON.stringify({ budget: p * 1000.5, tags: ['x', p], nested: { ok: p % 2 === 0 } }),
      });
      ids[`${label}p${p}`] = project;
      await db.owner.query(
        `insert into public.analyses (tenant_id, user_id, project_id, type, input, status, confidence, result, created_at)
         select $1, $2, $3, 'SENTIMENT_ANALYSIS', 'text ' || i,
                (array['PENDING','PROCESSING','COMPLETED','FAILED'])[1 + i % 4]::public.analysis_status,
                case when i % 3 = 0 then null else i / 17.0 end,
                case when i % 4 = 2 then jsonb_build_object('score', i * 0.1, 'label', 'l' || i) end,
                now() - (i % 3) * interval '1.234567 second'
         from generate_series(1, $4) as i`,
        [tenant.id, tenant.owner.id, project, 3 + p * 2],
      );
      await db.owner.query(
        `insert into public.uploads (tenant_id, user_id, project_id, filename, original_name, path, size_bytes, mime_type)
         select $1, $2, $3, 'f' || i, 'file ' || i || '.txt', 'p/' || i, i * 100, 'text/plain' from generate_series(1, $4) as i`,
        [tenant.id, tenant.member.id, project, p],
      );
      await db.owner.query(
        `insert into public.content_generations (tenant_id, user_id, project_id, type, prompt)
         select $1, $2, $3, 'TEXT', 'prompt ' || i from generate_series(1, $4) as i`,
        [tenant.id, tenant.owner.id, project, p + 1],
      );
    }
    // An analysis outside any project.
    await insertRow(db.owner, 'analyses', { tenant_id: tenant.id, user_id: tenant.member.id, type: 'SENTIMENT_ANALYSIS', input: 'loose' });
    for (const user of [tenant.owner, tenant.member]) {
      const conversation = await insertRow(db.owner, 'conversations', { tenant_id: tenant.id, user_id: user.id, title: `chat of ${user.email}` });
      await db.owner.query(
        `insert into public.messages (tenant_id, conversation_id, role, content)
         select $1, $2, (array['USER','ASSISTANT']::public.message_role[])[1 + i % 2], 'message ' || i from generate_series(1, 7) as i`,
        [tenant.id, conversation],
      );
    }
  }
  ids.analysisA = (await db.owner.query<{ id: string }>('select id from public.analyses where tenant_id = $1 limit 1', [a.id])).rows[0]!.id;
});
afterAll(() => db?.close());

async function both(user: WorldUser | undefined, tenantId: string | undefined, query: string, variables?: Record<string, unknown>) {
  const token = user ? await tokenFor(user, tenantId) : undefined;
  db.statements.length = 0;
  const viaPlan = await planned.graphql(query, { token, variables });
  const plannedStatements = db.statements.filter((sql) => sql.startsWith('select json_build_object(')).length;
  const viaResolvers = await resolved.graphql(query, { token, variables });
  expect(viaPlan.body).toEqual(viaResolvers.body);
  expect(viaPlan.status).toBe(viaResolvers.status);
  return { body: viaPlan.body, planned: plannedStatements > 0 };
}

const W1 = `{ projects(first: 50) { totalCount edges { node { id name status createdAt owner { id name } analyses(first: 5) { edges { node { id type status confidence createdAt } } } } } } }`;
const FILTERED = `{ analyses(first: 50, filter: { status: [COMPLETED] }) { totalCount edges { node { id type status confidence createdAt project { id name owner { id name } } requestedBy { id name } } } } }`;
const EVERYTHING = `query Everything($first: Int, $withCount: Boolean!, $skipOwner: Boolean!) {
  __typename
  p: projects(first: $first, orderBy: NAME, direction: ASC) {
    __typename
    count: totalCount @include(if: $withCount)
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor __typename }
    edges {
      cursor
      __typename
      node {
        ...ProjectFields
        owner @skip(if: $skipOwner) { ...on User { id email name avatarUrl role isActive lastLoginAt createdAt } }
        analyses(first: 2) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id input result confidence status model processingTimeMs creditsCost metadata createdAt updatedAt project { id } } } }
        uploads { totalCount edges { node { id } } }
        contentGenerations(first: 1) { edges { node { id } } }
      }
    }
  }
}
fragment ProjectFields on Project { id __typename name description status metadata createdAt updatedAt }`;

const callers = () =>
  [
    ['owner of a', world.a.owner, world.a.id],
    ['member of a', world.a.member, world.a.id],
    ['viewer of a', world.a.viewer, world.a.id],
    ['owner of b', world.b.owner, world.b.id],
    ['an outsider', world.outsider, undefined],
    ['a member of a without an active tenant', world.a.member, undefined],
  ] as const;

describe('planned reads answer exactly as field-by-field execution', () => {
  it('W1, the filtered list and a query using every plannable feature, for every caller', async () => {
    for (const [, user, tenant] of callers()) {
      const w1 = await both(user, tenant, W1);
      const filtered = await both(user, tenant, FILTERED);
      const everything = await both(user, tenant, EVERYTHING, { first: 3, withCount: true, skipOwner: false });
      if (tenant) {
        expect(w1.planned && filtered.planned && everything.planned).toBe(true);
        expect((w1.body.data as { projects: { totalCount: number } }).projects.totalCount).toBe(4);
      }
    }
  });

  it('anonymous callers are refused the same way', async () => {
    const anonymous = await both(undefined, undefined, W1);
    expect(anonymous.planned).toBe(false);
    expect(anonymous.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('pages forward with after to the end, root and nested, with ties on created_at', async () => {
    const pageQuery = `query($after: String, $nestedAfter: String) {
      projects(first: 3, after: $after) { pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { id } } }
      analyses(first: 4, after: $nestedAfter, orderBy: CREATED_AT, direction: ASC) { pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id createdAt } } }
    }`;
    let after: string | null = null;
    let nestedAfter: string | null = null;
    const seen = new Set<string>();
    for (let page = 0; page < 20; page++) {
      const { body, planned: wasPlanned } = await both(world.a.owner, world.a.id, pageQuery, { after, nestedAfter });
      expect(wasPlanned).toBe(true);
      const data = body.data as { projects: Connection; analyses: Connection };
      for (const edge of data.analyses.edges) {
        expect(seen.has(edge.node.id)).toBe(false);
        seen.add(edge.node.id);
      }
      after = data.projects.pageInfo.endCursor;
      nestedAfter = data.analyses.pageInfo.endCursor;
      if (!data.projects.pageInfo.hasNextPage && !data.analyses.pageInfo.hasNextPage) break;
    }
    const { rows } = await db.owner.query<{ n: number }>('select count(*)::int as n from public.analyses where tenant_id = $1', [world.a.id]);
    expect(seen.size).toBe(rows[0]!.n);
  });

  it('a cursor of a row the caller cannot see, first: 0, empty and ranged filters', async () => {
    const foreignCursor = Buffer.from(`GPC:S:${ids.bp1}`).toString('base64');
    for (const [query, variables] of [
      [`query($after: String) { projects(first: 2, after: $after) { pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { node { id } } } }`, { after: foreignCursor }],
      [`{ projects(first: 0) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { node { id } } } }`, {}],
      [`{ analyses(filter: { status: [] }) { totalCount edges { node { id } } } }`, {}],
      [`{ analyses(filter: { status: [PENDING, FAILED], createdAt: { from: "2000-01-01T00:00:00Z" } }, orderBy: UPDATED_AT) { totalCount edges { node { id status } } } }`, {}],
      [`{ projects { totalCount } contentGenerations(first: 3) { edges { node { id } } } }`, {}],
      [`{ conversations { edges { node { id title messages(first: 3) { totalCount pageInfo { hasNextPage } edges { node { id role content createdAt } } } } } } }`, {}],
    ] as const) {
      const { planned: wasPlanned } = await both(world.a.member, world.a.id, query, variables);
      expect(wasPlanned).toBe(true);
    }
  });

  it('edge arguments: pages above the maximum, explicit nulls, empty nested pages, variables of the wrong type', async () => {
    for (const [query, variables] of [
      [`{ projects(first: 500) { totalCount edges { node { id } } } }`, {}],
      [`query($f: Int) { projects(first: $f) { pageInfo { hasNextPage } edges { node { analyses(first: 0) { totalCount pageInfo { hasNextPage startCursor endCursor } edges { node { id } } } } } } }`, { f: null }],
      [`query($f: Int) { projects(first: $f) { totalCount } }`, { f: 'three' }],
      [`{ projects(first: -1) { totalCount } }`, {}],
      [`{ a: projects(first: 1) { totalCount } b: projects(first: 2, direction: ASC) { edges { node { name } } } }`, {}],
    ] as const) {
      await both(world.a.owner, world.a.id, query, variables);
    }
  });

  it('text search as Prisma runs it: trimmed by its schema, case-insensitive, % and _ as patterns', async () => {
    for (const search of ['PROJECT 1', '  about  ', 'a%1', 'a_p', '\\', 'ünï', 'nothing like it']) {
      for (const query of [
        `query($s: String!) { projects(filter: { search: $s, status: [ACTIVE] }) { totalCount edges { node { name description } } } }`,
        `query($s: String!) { analyses(filter: { search: $s }, first: 5) { totalCount edges { node { input } } } }`,
        `query($s: String!) { projects(filter: { search: $s }) { totalCount } }`,
      ]) {
        const result = await both(world.a.owner, world.a.id, query, { s: search });
        expect(result.planned).toBe(true);
        expect(result.body.errors).toBeUndefined();
      }
    }
  });

  it('node and nodes: every type, foreign and missing ids are null', async () => {
    const nodesQuery = `query($ids: [ID!]!, $one: ID!) {
      nodes(ids: $ids) { __typename id ... on Project { name owner { name } } ... on Analysis { status project { name } } ... on User { email } }
      node(id: $one) { id ...on Project { analyses(first: 1) { edges { node { id } } } } }
    }`;
    const variables = {
      ids: [
        encode('Project', ids.ap0!),
        encode('Project', ids.bp0!),
        encode('Analysis', ids.analysisA!),
        encode('User', world.a.member.id),
        encode('User', world.b.member.id),
        encode('Project', '00000000-0000-4000-8000-000000000000'),
      ],
      one: encode('Project', ids.ap3!),
    };
    for (const [, user, tenant] of callers()) {
      const result = await both(user, tenant, nodesQuery, variables);
      expect(result.planned).toBe(true);
      if (tenant === world.a.id) {
        const nodes = (result.body.data as { nodes: ({ id: string } | null)[] }).nodes;
        expect(nodes.map((node) => node !== null)).toEqual([true, false, true, true, false, false]);
      }
    }
  });

  it('what the planner does not answer runs field by field, with the same result', async () => {
    for (const query of [
      `{ viewer { user { id } } projects { totalCount } }`,
      `{ projects(filter: { search: "   " }) { totalCount } }`,
      `{ analyses(orderBy: CONFIDENCE) { edges { node { id confidence } } } }`,
      `{ projects(last: 2) { edges { node { id } } } }`,
      `{ nodes(ids: ["not-an-id"]) { id } }`,
      `{ projects(after: "garbage") { totalCount } }`,
    ]) {
      const result = await both(world.a.owner, world.a.id, query);
      expect(result.planned).toBe(false);
    }
  });
});

describe('the planner reads the Prisma schema as it is', () => {
  it('every model\'s id is a uuid, which its global ids and cursors are encoded from in SQL', () => {
    const schema = readFileSync(new URL('../../prisma/schema.prisma', import.meta.url), 'utf8');
    const models = [...schema.matchAll(/^model (\w+) \{\n([\s\S]*?)\n\}/gm)];
    expect(models.length).toBeGreaterThan(20);
    for (const [, name, body] of models) expect(body, name).toMatch(/^\s*id\s+String\s+@id\b.*@db\.Uuid/m);
  });

  it('finds each relation\'s key to the other side\'s id as @relation(fields, references) declares', () => {
    const models = modelsOf((db.prisma as unknown as { _runtimeDataModel: RuntimeDataModel })._runtimeDataModel);
    const schema = readFileSync(new URL('../../prisma/schema.prisma', import.meta.url), 'utf8');
    const relation = /^\s*(\w+)\s+(\w+)\??\s+@relation\((?:"\w+",\s*)?fields:\s*\[([^\]]+)\],\s*references:\s*\[([^\]]+)\]/gm;
    let checked = 0;
    for (const model of schema.matchAll(/^model (\w+) \{\n([\s\S]*?)\n\}/gm)) {
      for (const [, , target, fields, references] of model[2]!.matchAll(relation)) {
        const from = fields!.split(',').map((f) => f.trim());
        const to = references!.split(',').map((f) => f.trim());
        const key = keyReferencingId(from, models.get(target!)!);
        expect(key === undefined ? undefined : to[from.indexOf(key)], `${model[1]} -> ${target}`).toBe(to.includes('id') ? 'id' : undefined);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });
});

interface Connection {
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  edges: { cursor: string; node: { id: string } }[];
}
