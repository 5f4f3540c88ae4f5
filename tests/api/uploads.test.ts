import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createTestGateway, type GraphQLResponse } from '../support/gateway.ts';
import { createWorld, insertRow, type World, type WorldUser } from '../support/world.ts';

let db: TestDatabase;
let world: World;
let api: ReturnType<typeof createTestGateway>;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
  api = createTestGateway(db);
});
afterAll(() => db?.close());

type Result = { __typename?: string; code?: string; message?: string; [key: string]: unknown };
type Edges = { totalCount: number; edges: { node: { originalName: string; sizeBytes: number } }[] };

const GiB = 1024 ** 3;
const seedProject = (tenantId: string, userId: string, name: string) =>
  db.owner.transaction((tx) => insertRow(tx, 'projects', { tenant_id: tenantId, user_id: userId, name }));
const seedUpload = (tenantId: string, userId: string, originalName: string, extra: Record<string, unknown> = {}) =>
  db.owner.transaction((tx) =>
    insertRow(tx, 'uploads', {
      tenant_id: tenantId,
      user_id: userId,
      filename: `${originalName}.bin`,
      original_name: originalName,
      path: `uploads/${originalName}`,
      size_bytes: 10,
      mime_type: 'application/pdf',
      ...extra,
    }),
  );
const uploadCount = async () => (await db.owner.query<{ n: number }>('select count(*)::int as n from public.uploads')).rows[0]!.n;
const names = (connection: Edges | undefined) => connection!.edges.map((e) => e.node.originalName);

/** A query refused before it reads any uploads: the error's code, and no statement on the table. */
async function expectRefused(run: () => Promise<GraphQLResponse>, code: string) {
  db.statements.length = 0;
  const { body } = await run();
  expect(body.data).toBeNull();
  expect(body.errors?.map((error) => error.extensions?.code)).toEqual([code]);
  expect(db.statements.filter((sql) => sql.includes('"uploads"'))).toEqual([]);
}

const LIST = `query ($filter: UploadFilter) {
  uploads(filter: $filter, orderBy: ORIGINAL_NAME, direction: ASC) { totalCount edges { node { originalName sizeBytes } } }
}`;
const REGISTER = `mutation ($input: RegisterUploadInput!) {
  registerUpload(input: $input) {
    __typename
    ... on MutationRegisterUploadSuccess { upload { id originalName sizeBytes mimeType status processedAt project { id } uploadedBy { id } } }
    ... on MutationError { code message }
  }
}`;
const SET_STATUS = `mutation ($id: ID!, $status: UploadStatus!) {
  setUploadStatus(id: $id, status: $status) { ... on MutationSetUploadStatusSuccess { upload { status processedAt } } ... on MutationError { code message } }
}`;
const input = (extra: Record<string, unknown> = {}) => ({
  filename: 'f.png',
  originalName: 'Photo.png',
  path: 'tenant/f.png',
  sizeBytes: 2048,
  mimeType: 'image/png',
  ...extra,
});

describe('uploads query', () => {
  it('lists the active tenant’s uploads with filters, totalCount and sizes beyond 32 bits', async () => {
    const project = await seedProject(world.a.id, world.a.member.id, 'Media');
    await seedUpload(world.a.id, world.a.member.id, 'Report.pdf', { project_id: project, status: 'COMPLETED', size_bytes: 5 * GiB });
    await seedUpload(world.a.id, world.a.admin.id, 'Logo.png', { mime_type: 'image/png' });
    await seedUpload(world.a.id, world.a.admin.id, 'Old report.txt', { mime_type: 'text/plain', created_at: '2024-01-01T00:00:00Z' });
    const foreign = await seedUpload(world.b.id, world.b.member.id, 'Foreign report.pdf');

    const all = await api.as<{ uploads: Edges }>(world.a.viewer, world.a.id, LIST);
    expect(names(all.body.data?.uploads)).toEqual(['Logo.png', 'Old report.txt', 'Report.pdf']);
    expect(all.body.data!.uploads.totalCount).toBe(3);
    expect(all.body.data!.uploads.edges[2]!.node.sizeBytes).toBe(5 * GiB);

    const filters: [Record<string, unknown>, string[]][] = [
      [{ status: ['COMPLETED'] }, ['Report.pdf']],
      [{ projectId: encodeGlobalID('Project', project) }, ['Report.pdf']],
      [{ mimeTypePrefix: 'image/' }, ['Logo.png']],
      [{ search: 'REPORT' }, ['Old report.txt', 'Report.pdf']],
      [{ search: 'report', createdAt: { to: '2024-06-01T00:00:00Z' } }, ['Old report.txt']],
    ];
    for (const [filter, expected] of filters) {
      const response = await api.as<{ uploads: Edges }>(world.a.viewer, world.a.id, LIST, { filter });
      expect(names(response.body.data?.uploads)).toEqual(expected);
      expect(response.body.data!.uploads.totalCount).toBe(expected.length);
    }

    const projectUploads = await api.as<{ node: { uploads: Edges } }>(
      world.a.viewer,
      world.a.id,
      'query ($id: ID!) { node(id: $id) { ... on Project { uploads { totalCount edges { node { originalName sizeBytes } } } } } }',
      { id: encodeGlobalID('Project', project) },
    );
    expect(projectUploads.body.data!.node.uploads).toEqual({ totalCount: 1, edges: [{ node: { originalName: 'Report.pdf', sizeBytes: 5 * GiB } }] });

    const node = 'query ($id: ID!) { node(id: $id) { id } }';
    const foreignId = { id: encodeGlobalID('Upload', foreign) };
    expect((await api.as(world.a.owner, world.a.id, node, foreignId)).body).toEqual({ data: { node: null } });
    expect((await api.as(world.a.owner, world.b.id, node, foreignId)).body).toEqual({ data: { node: null } });
    expect((await api.graphql(node, { variables: foreignId })).body).toEqual({ data: { node: null } });
  });

  it('refuses anonymous callers and tokens naming a tenant the user does not belong to', async () => {
    await expectRefused(() => api.graphql(LIST), 'UNAUTHENTICATED');
    await expectRefused(() => api.as(world.b.owner, world.a.id, LIST), 'FORBIDDEN');
  });
});

describe('upload mutations', () => {
  it('registerUpload records a PENDING upload by the caller, linked to a project of the tenant', async () => {
    const project = encodeGlobalID('Project', await seedProject(world.a.id, world.a.owner.id, 'Files'));
    const response = await api.as<{ registerUpload: Result }>(world.a.member, world.a.id, REGISTER, {
      input: input({ projectId: project, sizeBytes: 10 * GiB, metadata: { width: 10 } }),
    });
    expect(response.body.data!.registerUpload).toMatchObject({
      __typename: 'MutationRegisterUploadSuccess',
      upload: {
        originalName: 'Photo.png',
        sizeBytes: 10 * GiB,
        mimeType: 'image/png',
        status: 'PENDING',
        processedAt: null,
        project: { id: project },
        uploadedBy: { id: encodeGlobalID('User', world.a.member.id) },
      },
    });
  });

  it('registerUpload refuses VIEWER, anonymous, forged tenants, foreign projects and bad input, writing nothing', async () => {
    const foreignProject = encodeGlobalID('Project', await seedProject(world.b.id, world.b.owner.id, 'Theirs'));
    const before = await uploadCount();
    const refusals: [WorldUser | undefined, string, Record<string, unknown>, string, string?][] = [
      [world.a.viewer, world.a.id, input(), 'FORBIDDEN'],
      [undefined, world.a.id, input(), 'UNAUTHENTICATED'],
      [world.b.owner, world.a.id, input(), 'FORBIDDEN'],
      [world.a.member, world.a.id, input({ projectId: foreignProject }), 'NOT_FOUND'],
      [world.a.member, world.a.id, input({ sizeBytes: 10 * GiB + 1 }), 'VALIDATION_FAILED', 'sizeBytes'],
      [world.a.member, world.a.id, input({ sizeBytes: 1.5 }), 'VALIDATION_FAILED', 'sizeBytes'],
      [world.a.member, world.a.id, input({ mimeType: 'png' }), 'VALIDATION_FAILED', 'got "png"'],
      [world.a.member, world.a.id, input({ filename: '' }), 'VALIDATION_FAILED', 'filename'],
    ];
    for (const [user, tenantId, variables, code, message] of refusals) {
      const response = user
        ? await api.as<{ registerUpload: Result }>(user, tenantId, REGISTER, { input: variables })
        : await api.graphql<{ registerUpload: Result }>(REGISTER, { variables: { input: variables } });
      expect(response.body.data!.registerUpload).toMatchObject({ code, message: expect.stringContaining(message ?? '') });
    }
    expect(await uploadCount()).toBe(before);
  });

  it('setUploadStatus: service_role only; COMPLETED stamps processedAt; the database refuses moves back', async () => {
    const raw = await seedUpload(world.a.id, world.a.member.id, 'Status.pdf');
    const id = encodeGlobalID('Upload', raw);
    type Outcome = { setUploadStatus: { upload?: { status: string; processedAt: string | null }; code?: string; message?: string } };
    const run = (user: WorldUser, tenantId: string, status: string) => api.as<Outcome>(user, tenantId, SET_STATUS, { id, status });
    const asService = (status: string) => api.asService<Outcome>(SET_STATUS, { id, status });
    for (const [user, tenantId] of [
      [world.a.member, world.a.id],
      [world.a.admin, world.a.id],
      [world.a.viewer, world.a.id],
      [world.b.owner, world.b.id],
      [world.b.owner, world.a.id],
    ] as const) {
      expect((await run(user, tenantId, 'FAILED')).body.data!.setUploadStatus).toMatchObject({ code: 'FORBIDDEN' });
    }
    const anon = await api.graphql<{ setUploadStatus: Result }>(SET_STATUS, { variables: { id, status: 'FAILED' } });
    expect(anon.body.data!.setUploadStatus).toMatchObject({ code: 'UNAUTHENTICATED' });

    expect((await asService('PROCESSING')).body.data!.setUploadStatus).toEqual({ upload: { status: 'PROCESSING', processedAt: null } });
    const completed = (await asService('COMPLETED')).body.data!.setUploadStatus;
    expect(completed.upload!.status).toBe('COMPLETED');
    expect(Date.parse(completed.upload!.processedAt!)).toBeGreaterThan(Date.now() - 60_000);
    expect((await asService('PROCESSING')).body.data!.setUploadStatus).toEqual({
      code: 'INVALID_TRANSITION',
      message: 'upload status cannot move from COMPLETED to PROCESSING; allowed from COMPLETED: DELETED',
    });
    expect((await asService('DELETED')).body.data!.setUploadStatus).toEqual({
      upload: { status: 'DELETED', processedAt: completed.upload!.processedAt },
    });
  });

  it('a failed mutation leaves nothing behind while the others of the operation stand', async () => {
    const foreignProject = encodeGlobalID('Project', await seedProject(world.a.id, world.a.owner.id, 'Not in b'));
    const before = await uploadCount();
    const operation = `mutation ($kept: RegisterUploadInput!, $failed: RegisterUploadInput!) {
      kept: registerUpload(input: $kept) { __typename }
      failed: registerUpload(input: $failed) { __typename ... on MutationError { code } }
    }`;
    const response = await api.as<Record<string, Result>>(world.b.member, world.b.id, operation, {
      kept: input(),
      failed: input({ projectId: foreignProject }),
    });
    expect(response.body.data).toEqual({
      kept: { __typename: 'MutationRegisterUploadSuccess' },
      failed: { __typename: 'MutationError', code: 'NOT_FOUND' },
    });
    expect(await uploadCount()).toBe(before + 1);
  });
});
