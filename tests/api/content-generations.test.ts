import { randomUUID } from 'node:crypto';
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createTestGateway } from '../support/gateway.ts';
import { creditBalance, grantCredits } from '../support/ledger.ts';
import { addMember, createUser, createWorld, insertRow, type World, type WorldUser } from '../support/world.ts';

let db: TestDatabase;
let world: World;
let api: ReturnType<typeof createTestGateway>;
// A second MEMBER of tenant a: sees a's generations but did not create them.
let otherMember: WorldUser;
let projectA: string;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
  api = createTestGateway(db);
  otherMember = await createUser(db.owner, 'a-member-2');
  await addMember(db.owner, world.a.id, otherMember.id, 'MEMBER');
  projectA = await insertRow(db.owner, 'projects', { tenant_id: world.a.id, user_id: world.a.owner.id, name: 'A' });
});
afterAll(() => db?.close());

interface GenerationNode {
  id: string;
  type: string;
  status: string;
  prompt: string;
  output: string | null;
  creditsCost: number;
  tokensUsed: number | null;
  qualityScore: number | null;
  processingTimeMs: number | null;
  project: { id: string } | null;
  requestedBy: { id: string };
}
interface Payload {
  __typename: string;
  code?: string;
  message?: string;
  contentGeneration?: GenerationNode;
}

const FIELDS = 'id type status prompt output creditsCost tokensUsed qualityScore processingTimeMs project { id } requestedBy { id }';
const REQUEST = `mutation ($input: RequestContentGenerationInput!) {
  requestContentGeneration(input: $input) {
    __typename
    ... on MutationRequestContentGenerationSuccess { contentGeneration { ${FIELDS} } }
    ... on MutationError { code message }
  }
}`;
const COMPLETE = `mutation ($id: ID!, $input: CompleteContentGenerationInput!) {
  completeContentGeneration(id: $id, input: $input) {
    __typename
    ... on MutationCompleteContentGenerationSuccess { contentGeneration { ${FIELDS} } }
    ... on MutationError { code message }
  }
}`;
const LIST = `query ($filter: ContentGenerationFilter, $orderBy: ContentGenerationOrderField! = CREATED_AT, $direction: SortDirection! = DESC) {
  contentGenerations(filter: $filter, orderBy: $orderBy, direction: $direction) { totalCount edges { node { id prompt } } }
}`;
type ListData = { contentGenerations: { totalCount: number; edges: { node: { id: string; prompt: string } }[] } };

const mutate = (field: string, user: WorldUser | null, tenantId: string | undefined, query: string, variables: Record<string, unknown>) =>
  api.payload<Payload>(field, user, tenantId, query, variables);
const request = (user: WorldUser | null, tenantId: string | undefined, input: Record<string, unknown>) =>
  mutate('requestContentGeneration', user, tenantId, REQUEST, { input });
const complete = (user: WorldUser | null, tenantId: string | undefined, id: string, input: Record<string, unknown>) =>
  mutate('completeContentGeneration', user, tenantId, COMPLETE, { id, input });
/** Outcomes are service_role's (the worker's) to record. */
async function completeAsService(id: string, input: Record<string, unknown>): Promise<Payload> {
  const response = await api.asService<{ completeContentGeneration: Payload }>(COMPLETE, { id, input });
  expect(response.body.errors).toBeUndefined();
  return response.body.data!.completeContentGeneration;
}

const seedGeneration = (tenantId: string, userId: string, prompt: string, extra: Record<string, unknown> = {}) =>
  insertRow(db.owner, 'content_generations', { tenant_id: tenantId, user_id: userId, type: 'TEXT', prompt, ...extra });
const grant = (tenantId: string, userId: string, amount: number) => grantCredits(db.owner, tenantId, userId, amount);
const balance = (tenantId: string, userId: string) => creditBalance(db.owner, tenantId, userId);
async function rowCounts() {
  const { rows } = await db.owner.query<{ generations: number; ledger: number }>(
    'select (select count(*)::int from public.content_generations) as generations, (select count(*)::int from public.credit_transactions) as ledger',
  );
  return rows[0]!;
}
const statusOf = async (id: string) =>
  (await db.owner.query<{ status: string }>('select status from public.content_generations where id = $1', [id])).rows[0]!.status;

describe('contentGenerations query', () => {
  it('lists the active tenant’s generations with filters and totalCount; other tenants see none', async () => {
    const tag = `tag-${randomUUID().slice(0, 8)}`;
    await seedGeneration(world.a.id, world.a.member.id, `newest ${tag}`, { type: 'CODE', status: 'COMPLETED', project_id: projectA });
    await seedGeneration(world.a.id, world.a.admin.id, `middle ${tag.toUpperCase()}`, { type: 'IMAGE', created_at: '2024-06-01T00:00:00Z' });
    await seedGeneration(world.a.id, world.a.member.id, `oldest ${tag}`, { created_at: '2020-01-01T00:00:00Z' });
    const foreign = await seedGeneration(world.b.id, world.b.member.id, `foreign ${tag}`);
    const list = async (user: WorldUser, tenantId: string, filter: Record<string, unknown>, order: Record<string, string> = {}) => {
      const page = (await api.as<ListData>(user, tenantId, LIST, { filter: { search: tag, ...filter }, ...order })).body.data!
        .contentGenerations;
      return [page.edges.map((e) => e.node.prompt), page.totalCount];
    };

    expect(await list(world.a.viewer, world.a.id, {})).toEqual([[`newest ${tag}`, `middle ${tag.toUpperCase()}`, `oldest ${tag}`], 3]);
    // Ordered like every other list: by creation or update time, either way.
    expect(await list(world.a.viewer, world.a.id, {}, { direction: 'ASC' })).toEqual([
      [`oldest ${tag}`, `middle ${tag.toUpperCase()}`, `newest ${tag}`],
      3,
    ]);
    // Touching the oldest makes it the most recently updated (a trigger stamps updated_at).
    await db.owner.query(`update public.content_generations set prompt = prompt where prompt = $1`, [`oldest ${tag}`]);
    const [byUpdate] = await list(world.a.viewer, world.a.id, {}, { orderBy: 'UPDATED_AT' });
    expect((byUpdate as string[])[0]).toBe(`oldest ${tag}`);
    expect(await list(world.a.viewer, world.a.id, { type: ['CODE', 'TEXT'] })).toEqual([[`newest ${tag}`, `oldest ${tag}`], 2]);
    expect(await list(world.a.viewer, world.a.id, { status: ['PENDING'] })).toEqual([[`middle ${tag.toUpperCase()}`, `oldest ${tag}`], 2]);
    expect(await list(world.a.viewer, world.a.id, { projectId: encodeGlobalID('Project', projectA) })).toEqual([[`newest ${tag}`], 1]);
    expect(await list(world.a.viewer, world.a.id, { createdAt: { from: '2024-01-01T00:00:00Z', to: '2024-12-31T00:00:00Z' } })).toEqual([
      [`middle ${tag.toUpperCase()}`],
      1,
    ]);
    expect(await list(world.b.viewer, world.b.id, {})).toEqual([[`foreign ${tag}`], 1]);
    expect(await list(world.b.owner, world.a.id, {})).toEqual([[], 0]);
    const anon = await api.graphql<ListData>(LIST, { variables: { filter: { search: tag } } });
    expect(anon.body).toMatchObject({ data: null, errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });

    const node = 'query ($id: ID!) { node(id: $id) { id } }';
    const cross = await api.as(world.a.owner, world.a.id, node, { id: encodeGlobalID('ContentGeneration', foreign) });
    expect(cross.body).toEqual({ data: { node: null } });
    const project = await api.as<{ node: { contentGenerations: { totalCount: number } } }>(
      world.a.viewer,
      world.a.id,
      'query ($id: ID!) { node(id: $id) { ... on Project { contentGenerations { totalCount } } } }',
      { id: encodeGlobalID('Project', projectA) },
    );
    expect(project.body.data!.node.contentGenerations.totalCount).toBeGreaterThanOrEqual(1);
  });
});

describe('requestContentGeneration', () => {
  it.each([
    ['TEXT', 5],
    ['CODE', 10],
    ['IMAGE', 25],
  ])('%s spends exactly %i credits and creates a PENDING generation with its ledger entry', async (type, cost) => {
    const { a } = world;
    await grant(a.id, a.member.id, 40);
    const before = await balance(a.id, a.member.id);
    const payload = await request(a.member, a.id, { type, prompt: 'write something', projectId: encodeGlobalID('Project', projectA) });
    expect(payload).toMatchObject({
      __typename: 'MutationRequestContentGenerationSuccess',
      contentGeneration: {
        type, status: 'PENDING', creditsCost: cost, prompt: 'write something',
        project: { id: encodeGlobalID('Project', projectA) }, requestedBy: { id: encodeGlobalID('User', a.member.id) },
      },
    });
    expect(await balance(a.id, a.member.id)).toBe(before - cost);
    const id = decodeGlobalID(payload.contentGeneration!.id).id;
    const { rows } = await db.owner.query(
      "select amount, kind, reason from public.credit_transactions where metadata ->> 'contentGenerationId' = $1",
      [id],
    );
    expect(rows).toEqual([{ amount: -cost, kind: 'SPEND', reason: `generation:${type}` }]);
  });

  it('INSUFFICIENT_CREDITS writes neither a ledger entry nor a generation', async () => {
    const { b } = world;
    await grant(b.id, b.member.id, 24);
    const before = await rowCounts();
    expect(await request(b.member, b.id, { type: 'IMAGE', prompt: 'a cat' })).toMatchObject({
      code: 'INSUFFICIENT_CREDITS',
      message: expect.stringContaining('balance 24, requested 25'),
    });
    expect(await rowCounts()).toEqual(before);
    expect(await balance(b.id, b.member.id)).toBe(24);
  });

  it('refuses VIEWER, forged tenants, anonymous callers, bad input and foreign projects, writing nothing', async () => {
    const { a, b } = world;
    // Credits in hand, so every refusal below is about the caller or the input, never the balance.
    await grant(a.id, a.viewer.id, 100);
    await grant(b.id, b.admin.id, 100);
    const before = await rowCounts();
    const input = { type: 'TEXT', prompt: 'x' };
    expect(await request(a.viewer, a.id, input)).toMatchObject({ code: 'FORBIDDEN' });
    expect(await request(b.owner, a.id, input)).toMatchObject({ code: 'FORBIDDEN' });
    expect(await request(null, undefined, input)).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(await request(b.admin, b.id, { ...input, prompt: '   ' })).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('prompt') });
    expect(await request(b.admin, b.id, { ...input, model: 'm'.repeat(201) })).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await request(b.admin, b.id, { ...input, projectId: encodeGlobalID('Project', projectA) })).toMatchObject({ code: 'NOT_FOUND' });
    expect(await rowCounts()).toEqual(before);
    expect(await balance(b.id, b.admin.id)).toBe(100);

    const operation = `mutation ($foreign: ID!) {
      kept: requestContentGeneration(input: { type: TEXT, prompt: "kept" }) { __typename }
      lost: requestContentGeneration(input: { type: CODE, prompt: "lost", projectId: $foreign }) { __typename ... on MutationError { code } }
    }`;
    const both = await api.as(b.admin, b.id, operation, { foreign: encodeGlobalID('Project', projectA) });
    expect(both.body.data).toEqual({
      kept: { __typename: 'MutationRequestContentGenerationSuccess' },
      lost: { __typename: 'MutationError', code: 'NOT_FOUND' },
    });
    expect(await rowCounts()).toEqual({ generations: before.generations + 1, ledger: before.ledger + 1 });
    expect(await balance(b.id, b.admin.id)).toBe(95);
  });
});

describe('completeContentGeneration', () => {
  const STATUSES = ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED'] as const;

  it.each(STATUSES.flatMap((from) => STATUSES.map((to) => [from, to] as const)))('%s -> %s', async (from, to) => {
    const raw = await seedGeneration(world.a.id, world.a.member.id, `transition ${from} ${to}`, { status: from });
    const payload = await completeAsService(encodeGlobalID('ContentGeneration', raw), { status: to });
    const finishing = to === 'COMPLETED' || to === 'FAILED';
    // The database decides: an unfinished generation may finish, a finished one only stays put.
    if (!finishing) {
      expect(payload).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining(`expected COMPLETED or FAILED, got ${to}`) });
    } else if (from === 'PENDING' || from === 'PROCESSING' || from === to) {
      expect(payload).toMatchObject({ contentGeneration: { status: to } });
    } else {
      expect(payload).toMatchObject({
        code: 'INVALID_TRANSITION',
        message: `content generation status cannot move from ${from} to ${to}; allowed from ${from}: nothing, it is final`,
      });
    }
    expect(await statusOf(raw)).toBe(payload.contentGeneration ? to : from);
  });

  it('records the outcome as service_role; the creator, ADMIN and everyone else are refused and nothing changes', async () => {
    const { a, b } = world;
    const mine = await seedGeneration(a.id, a.member.id, 'mine');
    const id = encodeGlobalID('ContentGeneration', mine);
    const done = { status: 'COMPLETED', output: 'result', tokensUsed: 42, qualityScore: 0.5, processingTimeMs: 900 };
    for (const [user, tenantId] of [
      [a.member, a.id],
      [a.admin, a.id],
      [a.viewer, a.id],
      [b.owner, a.id],
      [b.owner, b.id],
      [otherMember, a.id],
    ] as const) {
      expect(await complete(user, tenantId, id, done)).toMatchObject({ code: 'FORBIDDEN' });
    }
    expect(await complete(null, undefined, id, done)).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(await completeAsService(id, { ...done, qualityScore: 2 })).toMatchObject({
      code: 'VALIDATION_FAILED', message: expect.stringContaining('qualityScore'),
    });
    expect(await statusOf(mine)).toBe('PENDING');

    expect(await completeAsService(id, done)).toMatchObject({ contentGeneration: { ...done, creditsCost: 0 } });
    const theirs = await seedGeneration(a.id, a.member.id, 'theirs', { status: 'PROCESSING' });
    expect(await completeAsService(encodeGlobalID('ContentGeneration', theirs), { status: 'FAILED' })).toMatchObject({
      contentGeneration: { status: 'FAILED', output: null },
    });
    expect(await completeAsService(encodeGlobalID('ContentGeneration', randomUUID()), done)).toMatchObject({ code: 'NOT_FOUND' });
  });
});
