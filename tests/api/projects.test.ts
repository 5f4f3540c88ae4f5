import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createTestGateway } from '../support/gateway.ts';
import { createWorld, insertRow, type World } from '../support/world.ts';

let db: TestDatabase;
let world: World;
let api: ReturnType<typeof createTestGateway>;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
  api = createTestGateway(db);
});
afterAll(() => db?.close());

const seedProject = (tenantId: string, userId: string, name: string, extra: Record<string, unknown> = {}) =>
  db.owner.transaction((tx) => insertRow(tx, 'projects', { tenant_id: tenantId, user_id: userId, name, ...extra }));

const CREATE = `mutation ($input: CreateProjectInput!) {
  createProject(input: $input) {
    __typename
    ... on MutationCreateProjectSuccess { project { id name status owner { id } } }
    ... on MutationError { code message }
  }
}`;

describe('projects query', () => {
  it('lists the active tenant’s projects only, with totalCount, filters and order', async () => {
    await seedProject(world.a.id, world.a.member.id, 'Alpha search-me');
    await seedProject(world.a.id, world.a.admin.id, 'Beta', { status: 'ARCHIVED' });
    const foreign = await seedProject(world.b.id, world.b.member.id, 'Foreign search-me');
    const query = `query ($filter: ProjectFilter) {
      projects(filter: $filter, orderBy: NAME, direction: ASC) { totalCount edges { node { id name status } } }
    }`;
    const all = await api.as<{ projects: { totalCount: number; edges: { node: { name: string } }[] } }>(world.a.viewer, world.a.id, query);
    const names = all.body.data!.projects.edges.map((e) => e.node.name);
    expect(names).toEqual([...names].sort());
    expect(names).toContain('Alpha search-me');
    expect(names).not.toContain('Foreign search-me');
    expect(all.body.data!.projects.totalCount).toBe(names.length);

    const searched = await api.as<{ projects: { totalCount: number; edges: { node: { name: string } }[] } }>(
      world.a.viewer,
      world.a.id,
      query,
      { filter: { search: 'SEARCH-ME', status: ['ACTIVE'] } },
    );
    expect(searched.body.data!.projects.edges.map((e) => e.node.name)).toEqual(['Alpha search-me']);
    expect(searched.body.data!.projects.totalCount).toBe(1);

    const foreignNode = await api.as(world.a.owner, world.a.id, 'query ($id: ID!) { node(id: $id) { id } }', {
      id: encodeGlobalID('Project', foreign),
    });
    expect(foreignNode.body).toEqual({ data: { node: null } });
  });

  it('pages 20 by default and at most 100', async () => {
    const tenant = world.b;
    for (let i = 0; i < 25; i++) await seedProject(tenant.id, tenant.owner.id, `Page ${i}`);
    const first = await api.as<{ projects: { edges: unknown[]; pageInfo: { hasNextPage: boolean } } }>(
      tenant.viewer,
      tenant.id,
      '{ projects { edges { cursor } pageInfo { hasNextPage endCursor } } }',
    );
    expect(first.body.data!.projects.edges).toHaveLength(20);
    expect(first.body.data!.projects.pageInfo.hasNextPage).toBe(true);
    await db.owner.query(
      "insert into public.projects (tenant_id, user_id, name) select $1, $2, 'Bulk ' || n from generate_series(1, 90) n",
      [tenant.id, tenant.owner.id],
    );
    const capped = await api.as<{ projects: { edges: unknown[]; totalCount: number } }>(
      tenant.viewer,
      tenant.id,
      '{ projects(first: 500) { totalCount edges { cursor } } }',
    );
    expect(capped.body.data!.projects.totalCount).toBeGreaterThan(100);
    expect(capped.body.data!.projects.edges).toHaveLength(100);
  });

  it('anonymous callers are asked to sign in, and node(id) shows them nothing', async () => {
    const hidden = await seedProject(world.a.id, world.a.member.id, 'Hidden from anon');
    const response = await api.graphql<{ projects: { totalCount: number } }>('{ projects { totalCount } }');
    expect(response.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const node = await api.graphql('query ($id: ID!) { node(id: $id) { id } }', { variables: { id: encodeGlobalID('Project', hidden) } });
    expect(node.body).toEqual({ data: { node: null } });
  });
});

describe('project mutations', () => {
  it('createProject creates as the caller in the active tenant', async () => {
    const response = await api.as<{ createProject: { __typename: string; project: { name: string; owner: { id: string } } } }>(
      world.a.member,
      world.a.id,
      CREATE,
      { input: { name: '  Launch  ', description: 'x', metadata: { budget: 100 } } },
    );
    expect(response.body.data!.createProject).toMatchObject({
      __typename: 'MutationCreateProjectSuccess',
      project: { name: 'Launch', owner: { id: encodeGlobalID('User', world.a.member.id) } },
    });
  });

  it('createProject refuses VIEWER, anonymous callers and bad input with typed errors, writing nothing', async () => {
    const before = await db.owner.query<{ n: string }>('select count(*)::text as n from public.projects');
    const viewer = await api.as<{ createProject: { code: string } }>(world.a.viewer, world.a.id, CREATE, { input: { name: 'No' } });
    expect(viewer.body.data!.createProject).toMatchObject({ code: 'FORBIDDEN' });
    const anon = await api.graphql<{ createProject: { code: string } }>(CREATE, { variables: { input: { name: 'No' } } });
    expect(anon.body.data!.createProject).toMatchObject({ code: 'UNAUTHENTICATED' });
    const blank = await api.as<{ createProject: { code: string; message: string } }>(world.a.member, world.a.id, CREATE, {
      input: { name: '   ' },
    });
    expect(blank.body.data!.createProject).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('name') });
    const forged = await api.as<{ createProject: { code: string } }>(world.b.owner, world.a.id, CREATE, { input: { name: 'No' } });
    expect(forged.body.data!.createProject).toMatchObject({ code: 'FORBIDDEN' });
    const after = await db.owner.query<{ n: string }>('select count(*)::text as n from public.projects');
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
  });

  it('updateProject: creators and ADMIN change it; other members and other tenants get NOT_FOUND', async () => {
    const id = encodeGlobalID('Project', await seedProject(world.a.id, world.a.member.id, 'Mine'));
    const update = `mutation ($id: ID!, $name: String) {
      updateProject(id: $id, input: { name: $name }) {
        ... on MutationUpdateProjectSuccess { project { name } }
        ... on MutationError { code }
      }
    }`;
    const run = (user: typeof world.a.member, tenantId: string, name: string) =>
      api.as<{ updateProject: { project?: { name: string }; code?: string } }>(user, tenantId, update, { id, name });
    expect((await run(world.a.member, world.a.id, 'Renamed')).body.data!.updateProject).toEqual({ project: { name: 'Renamed' } });
    expect((await run(world.a.admin, world.a.id, 'By admin')).body.data!.updateProject).toEqual({ project: { name: 'By admin' } });
    const otherMember = await db.owner.transaction((tx) =>
      insertRow(tx, 'tenant_users', { tenant_id: world.a.id, user_id: world.outsider.id, role: 'MEMBER' }),
    );
    expect((await run(world.outsider, world.a.id, 'Nope')).body.data!.updateProject).toEqual({ code: 'NOT_FOUND' });
    await db.owner.query('delete from public.tenant_users where id = $1', [otherMember]);
    expect((await run(world.a.viewer, world.a.id, 'Nope')).body.data!.updateProject).toEqual({ code: 'NOT_FOUND' });
    expect((await run(world.b.owner, world.b.id, 'Nope')).body.data!.updateProject).toEqual({ code: 'NOT_FOUND' });
    // An update that sets nothing would only read the row: a viewer who can read it must not be told it worked.
    const empty = await api.as<{ updateProject: { code?: string } }>(world.a.viewer, world.a.id, update, { id, name: null });
    expect(empty.body.data!.updateProject).toEqual({ code: 'VALIDATION_FAILED' });
    const { rows } = await db.owner.query('select name from public.projects where id = $1', [Buffer.from(id, 'base64').toString().split(':')[1]]);
    expect(rows).toEqual([{ name: 'By admin' }]);
  });

  it('archiveProject and deleteProject', async () => {
    const raw = await seedProject(world.a.id, world.a.member.id, 'Done');
    const id = encodeGlobalID('Project', raw);
    const archived = await api.as<{ archiveProject: { project: { status: string } } }>(
      world.a.member,
      world.a.id,
      'mutation ($id: ID!) { archiveProject(id: $id) { ... on MutationArchiveProjectSuccess { project { status } } } }',
      { id },
    );
    expect(archived.body.data!.archiveProject.project.status).toBe('ARCHIVED');
    const deleteMutation = 'mutation ($id: ID!) { deleteProject(id: $id) { ... on MutationDeleteProjectSuccess { deletedProjectId } ... on MutationError { code } } }';
    const byOther = await api.as(world.b.owner, world.b.id, deleteMutation, { id });
    expect(byOther.body.data).toEqual({ deleteProject: { code: 'NOT_FOUND' } });
    const deleted = await api.as(world.a.member, world.a.id, deleteMutation, { id });
    expect(deleted.body.data).toEqual({ deleteProject: { deletedProjectId: raw } });
    expect((await db.owner.query('select id from public.projects where id = $1', [raw])).rows).toEqual([]);
  });

  it('a failed mutation leaves nothing behind while the others of the operation stand', async () => {
    const operation = `mutation {
      first: createProject(input: { name: "Kept" }) { __typename }
      second: createProject(input: { name: "${'x'.repeat(201)}" }) { __typename ... on MutationError { code } }
    }`;
    const response = await api.as<Record<string, { __typename: string; code?: string }>>(world.b.member, world.b.id, operation);
    expect(response.body.data).toEqual({
      first: { __typename: 'MutationCreateProjectSuccess' },
      second: { __typename: 'MutationError', code: 'VALIDATION_FAILED' },
    });
    const { rows } = await db.owner.query("select count(*)::int as n from public.projects where tenant_id = $1 and name = 'Kept'", [world.b.id]);
    expect(rows[0]!.n).toBe(1);
  });
});

describe('malformed ids', () => {
  it('an id of the wrong type or no id at all is VALIDATION_FAILED, not an internal error', async () => {
    const update = 'mutation ($id: ID!) { archiveProject(id: $id) { __typename } }';
    const wrongType = await api.as(world.a.member, world.a.id, update, { id: encodeGlobalID('User', world.a.member.id) });
    expect(wrongType.body.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
    const garbage = await api.as(world.a.member, world.a.id, update, { id: '%%%' });
    expect(garbage.body.errors?.[0]?.extensions?.code).toBe('VALIDATION_FAILED');
  });
});
