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
// A second MEMBER of tenant a: sees a's analyses but did not create them.
let otherMember: WorldUser;
let projectA: string;
let projectB: string;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
  api = createTestGateway(db);
  otherMember = await createUser(db.owner, 'a-member-2');
  await addMember(db.owner, world.a.id, otherMember.id, 'MEMBER');
  projectA = await insertRow(db.owner, 'projects', { tenant_id: world.a.id, user_id: world.a.owner.id, name: 'A' });
  projectB = await insertRow(db.owner, 'projects', { tenant_id: world.b.id, user_id: world.b.owner.id, name: 'B' });
});
afterAll(() => db?.close());

interface AnalysisNode {
  id: string;
  type: string;
  status: string;
  input: string;
  creditsCost: number;
  confidence: number | null;
  result: unknown;
  model: string | null;
  processingTimeMs: number | null;
  project: { id: string } | null;
  requestedBy: { id: string };
}
interface Payload {
  __typename: string;
  code?: string;
  message?: string;
  analysis?: AnalysisNode;
}

const FIELDS = 'id type status input creditsCost confidence result model processingTimeMs project { id } requestedBy { id }';
const REQUEST = `mutation ($input: RequestAnalysisInput!) {
  requestAnalysis(input: $input) {
    __typename
    ... on MutationRequestAnalysisSuccess { analysis { ${FIELDS} } }
    ... on MutationError { code message }
  }
}`;
const UPDATE = `mutation ($id: ID!, $input: UpdateAnalysisStatusInput!) {
  updateAnalysisStatus(id: $id, input: $input) {
    __typename
    ... on MutationUpdateAnalysisStatusSuccess { analysis { ${FIELDS} } }
    ... on MutationError { code message }
  }
}`;
const LIST = `query ($filter: AnalysisFilter, $orderBy: AnalysisOrderField, $direction: SortDirection, $first: Int, $after: String) {
  analyses(filter: $filter, orderBy: $orderBy, direction: $direction, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id input status type confidence } }
  }
}`;
type ListData = {
  analyses: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    edges: { node: { id: string; input: string; status: string; type: string; confidence: number | null } }[];
  };
};

const mutate = (field: string, user: WorldUser | null, tenantId: string | undefined, query: string, variables: Record<string, unknown>) =>
  api.payload<Payload>(field, user, tenantId, query, variables);
const request = (user: WorldUser | null, tenantId: string | undefined, input: Record<string, unknown>) =>
  mutate('requestAnalysis', user, tenantId, REQUEST, { input });
const update = (user: WorldUser | null, tenantId: string | undefined, id: string, input: Record<string, unknown>) =>
  mutate('updateAnalysisStatus', user, tenantId, UPDATE, { id, input });
/** Statuses and results are service_role's (the worker's) to write. */
async function updateAsService(id: string, input: Record<string, unknown>): Promise<Payload> {
  const response = await api.asService<{ updateAnalysisStatus: Payload }>(UPDATE, { id, input });
  expect(response.body.errors).toBeUndefined();
  return response.body.data!.updateAnalysisStatus;
}

const seedAnalysis = (tenantId: string, userId: string, input: string, extra: Record<string, unknown> = {}) =>
  insertRow(db.owner, 'analyses', { tenant_id: tenantId, user_id: userId, type: 'TEXT_ANALYSIS', input, ...extra });
const grant = (tenantId: string, userId: string, amount: number) => grantCredits(db.owner, tenantId, userId, amount);
const balance = (tenantId: string, userId: string) => creditBalance(db.owner, tenantId, userId);
async function rowCounts() {
  const { rows } = await db.owner.query<{ analyses: number; ledger: number }>(
    'select (select count(*)::int from public.analyses) as analyses, (select count(*)::int from public.credit_transactions) as ledger',
  );
  return rows[0]!;
}
const rawId = (globalId: string) => decodeGlobalID(globalId).id;

describe('analyses query', () => {
  it('lists the active tenant’s analyses with filters, totalCount and order; other tenants see none', async () => {
    const tag = `tag-${randomUUID().slice(0, 8)}`;
    await seedAnalysis(world.a.id, world.a.member.id, `first ${tag}`, { status: 'COMPLETED', confidence: 0.9, project_id: projectA });
    await seedAnalysis(world.a.id, world.a.admin.id, `second ${tag.toUpperCase()}`, { type: 'SEO_ANALYSIS', confidence: 0.2 });
    await seedAnalysis(world.a.id, world.a.member.id, `old ${tag}`, { created_at: '2020-01-01T00:00:00Z' });
    await seedAnalysis(world.b.id, world.b.member.id, `foreign ${tag}`, { project_id: projectB });
    const list = (user: WorldUser, tenantId: string, variables: Record<string, unknown>) =>
      api.as<ListData>(user, tenantId, LIST, variables).then((r) => r.body.data!.analyses);
    const inputs = (page: ListData['analyses']) => page.edges.map((e) => e.node.input);

    const all = await list(world.a.viewer, world.a.id, { filter: { search: tag }, orderBy: 'CONFIDENCE', direction: 'DESC' });
    expect(inputs(all)).toEqual([`first ${tag}`, `second ${tag.toUpperCase()}`, `old ${tag}`]);
    expect(all.totalCount).toBe(3);
    const byStatus = await list(world.a.viewer, world.a.id, { filter: { search: tag, status: ['COMPLETED'] } });
    expect([inputs(byStatus), byStatus.totalCount]).toEqual([[`first ${tag}`], 1]);
    const byType = await list(world.a.viewer, world.a.id, { filter: { search: tag, type: ['SEO_ANALYSIS', 'CODE_ANALYSIS'] } });
    expect([inputs(byType), byType.totalCount]).toEqual([[`second ${tag.toUpperCase()}`], 1]);
    const byProject = await list(world.a.viewer, world.a.id, { filter: { search: tag, projectId: encodeGlobalID('Project', projectA) } });
    expect([inputs(byProject), byProject.totalCount]).toEqual([[`first ${tag}`], 1]);
    // Another tenant's project as a filter finds nothing here, and its analysis only there.
    const foreignProject = { filter: { search: tag, projectId: encodeGlobalID('Project', projectB) } };
    expect((await list(world.a.viewer, world.a.id, foreignProject)).totalCount).toBe(0);
    expect(inputs(await list(world.b.viewer, world.b.id, foreignProject))).toEqual([`foreign ${tag}`]);
    const byDate = await list(world.a.viewer, world.a.id, { filter: { search: tag, createdAt: { to: '2021-01-01T00:00:00Z' } } });
    expect([inputs(byDate), byDate.totalCount]).toEqual([[`old ${tag}`], 1]);

    const own = await list(world.b.viewer, world.b.id, { filter: { search: tag } });
    expect([inputs(own), own.totalCount]).toEqual([[`foreign ${tag}`], 1]);
    const forged = await list(world.b.owner, world.a.id, { filter: { search: tag } });
    expect([inputs(forged), forged.totalCount]).toEqual([[], 0]);
    const anon = await api.graphql<ListData>(LIST, { variables: { filter: { search: tag } } });
    expect(anon.body).toMatchObject({ data: null, errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });
  });

  it('pages through every analysis once when ordered by confidence, unscored ones last', async () => {
    const tag = `page-${randomUUID().slice(0, 8)}`;
    for (const [i, confidence] of [0.9, null, 0.5, null, 0.1].entries()) {
      await seedAnalysis(world.a.id, world.a.member.id, `${tag} ${i}`, { confidence });
    }
    for (const direction of ['ASC', 'DESC']) {
      const seen: (number | null)[] = [];
      let after: string | null = null;
      do {
        const response = await api.as<ListData>(world.a.member, world.a.id, LIST, {
          filter: { search: tag }, orderBy: 'CONFIDENCE', direction, first: 2, after,
        });
        const page: ListData['analyses'] = response.body.data!.analyses;
        seen.push(...page.edges.map((e) => e.node.confidence));
        after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
      } while (after);
      const numbers = seen.filter((c) => c !== null).map((c) => Number(c.toFixed(2)));
      expect(numbers).toEqual(direction === 'ASC' ? [0.1, 0.5, 0.9] : [0.9, 0.5, 0.1]);
      expect(seen.slice(3)).toEqual([null, null]);
    }
  });

  it('node(id) and Project.analyses show only what the caller may see', async () => {
    const linked = await seedAnalysis(world.a.id, world.a.member.id, 'linked', { project_id: projectA });
    const foreign = await seedAnalysis(world.b.id, world.b.member.id, 'foreign');
    const node = 'query ($id: ID!) { node(id: $id) { id ... on Analysis { input } } }';
    const own = await api.as(world.a.viewer, world.a.id, node, { id: encodeGlobalID('Analysis', linked) });
    expect(own.body.data).toEqual({ node: { id: encodeGlobalID('Analysis', linked), input: 'linked' } });
    const cross = await api.as(world.a.owner, world.a.id, node, { id: encodeGlobalID('Analysis', foreign) });
    expect(cross.body).toEqual({ data: { node: null } });

    const projectQuery = `query ($id: ID!) { node(id: $id) { ... on Project { analyses(first: 50) { totalCount edges { node { id } } } } } }`;
    type ProjectData = { node: { analyses: { totalCount: number; edges: { node: { id: string } }[] } } | null };
    const project = await api.as<ProjectData>(world.a.viewer, world.a.id, projectQuery, { id: encodeGlobalID('Project', projectA) });
    const ids = project.body.data!.node!.analyses.edges.map((e) => rawId(e.node.id));
    expect(ids).toContain(linked);
    expect(project.body.data!.node!.analyses.totalCount).toBe(ids.length);
    const fromB = await api.as<ProjectData>(world.b.owner, world.b.id, projectQuery, { id: encodeGlobalID('Project', projectA) });
    expect(fromB.body.data!.node).toBeNull();
  });
});

describe('requestAnalysis', () => {
  it('spends exactly the type’s price and creates a PENDING analysis, with its ledger entry', async () => {
    const prices = {
      TEXT_ANALYSIS: 10, SENTIMENT_ANALYSIS: 10, SEO_ANALYSIS: 15, CONTENT_OPTIMIZATION: 15,
      CODE_ANALYSIS: 20, DATA_ANALYSIS: 25, IMAGE_ANALYSIS: 30, MULTIMODAL_ANALYSIS: 50,
    };
    const { a } = world;
    await grant(a.id, a.member.id, 1000);
    for (const [type, cost] of Object.entries(prices)) {
      const before = await balance(a.id, a.member.id);
      const payload = await request(a.member, a.id, {
        type, input: `  please analyse ${type}`, projectId: encodeGlobalID('Project', projectA), model: 'gpt-x', metadata: { k: 1 },
      });
      expect(payload).toMatchObject({
        __typename: 'MutationRequestAnalysisSuccess',
        analysis: {
          type, status: 'PENDING', creditsCost: cost, input: `  please analyse ${type}`, model: 'gpt-x',
          project: { id: encodeGlobalID('Project', projectA) }, requestedBy: { id: encodeGlobalID('User', a.member.id) },
        },
      });
      expect(await balance(a.id, a.member.id)).toBe(before - cost);
      const id = rawId(payload.analysis!.id);
      const { rows } = await db.owner.query(
        'select amount, kind, reason, balance_after::int as "balanceAfter", metadata from public.credit_transactions where metadata ->> $1 = $2',
        ['analysisId', id],
      );
      expect(rows).toEqual([{ amount: -cost, kind: 'SPEND', reason: `analysis:${type}`, balanceAfter: before - cost, metadata: { analysisId: id, type } }]);
    }
  });

  it('INSUFFICIENT_CREDITS writes neither a ledger entry nor an analysis', async () => {
    const { b } = world;
    await grant(b.id, b.member.id, 49);
    const before = await rowCounts();
    const payload = await request(b.member, b.id, { type: 'MULTIMODAL_ANALYSIS', input: 'too expensive' });
    expect(payload).toMatchObject({ code: 'INSUFFICIENT_CREDITS', message: expect.stringContaining('balance 49, requested 50') });
    expect(await rowCounts()).toEqual(before);
    expect(await balance(b.id, b.member.id)).toBe(49);
  });

  it('refuses VIEWER, forged tenants, anonymous callers, bad input and foreign projects, writing nothing', async () => {
    const { a, b } = world;
    // Credits in hand, so every refusal below is about the caller or the input, never the balance.
    await grant(a.id, a.viewer.id, 100);
    await grant(b.id, b.member.id, 100);
    const before = await rowCounts();
    const memberBalance = await balance(b.id, b.member.id);
    const input = { type: 'TEXT_ANALYSIS', input: 'x' };
    expect(await request(a.viewer, a.id, input)).toMatchObject({ code: 'FORBIDDEN' });
    expect(await request(b.owner, a.id, input)).toMatchObject({ code: 'FORBIDDEN' });
    expect(await request(null, undefined, input)).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(await request(b.member, b.id, { ...input, input: ' \n ' })).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('input') });
    expect(await request(b.member, b.id, { ...input, input: 'x'.repeat(100_001) })).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await request(b.member, b.id, { ...input, projectId: encodeGlobalID('Project', projectA) })).toMatchObject({ code: 'NOT_FOUND' });
    expect(await request(b.member, b.id, { ...input, projectId: encodeGlobalID('Project', randomUUID()) })).toMatchObject({ code: 'NOT_FOUND' });
    expect(await rowCounts()).toEqual(before);
    expect(await balance(b.id, b.member.id)).toBe(memberBalance);
  });

  it('a failed request leaves nothing behind while the others of the operation stand', async () => {
    const { b } = world;
    await grant(b.id, b.admin.id, 30);
    const before = await rowCounts();
    const operation = `mutation ($foreign: ID!) {
      kept: requestAnalysis(input: { type: TEXT_ANALYSIS, input: "kept" }) { __typename }
      lost: requestAnalysis(input: { type: TEXT_ANALYSIS, input: "lost", projectId: $foreign }) { __typename ... on MutationError { code } }
    }`;
    const response = await api.as(b.admin, b.id, operation, { foreign: encodeGlobalID('Project', projectA) });
    expect(response.body.data).toEqual({
      kept: { __typename: 'MutationRequestAnalysisSuccess' },
      lost: { __typename: 'MutationError', code: 'NOT_FOUND' },
    });
    expect(await rowCounts()).toEqual({ analyses: before.analyses + 1, ledger: before.ledger + 1 });
    expect(await balance(b.id, b.admin.id)).toBe(20);
  });
});

describe('updateAnalysisStatus', () => {
  const STATUSES = ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED'] as const;
  // Staying put is no move: the worker may record progress without changing the status.
  const ALLOWED = new Set(['PENDING>PROCESSING', 'PROCESSING>COMPLETED', 'PROCESSING>FAILED', ...STATUSES.map((s) => `${s}>${s}`)]);

  it.each(STATUSES.flatMap((from) => STATUSES.map((to) => [from, to] as const)))('%s -> %s', async (from, to) => {
    const raw = await seedAnalysis(world.a.id, world.a.member.id, `transition ${from} ${to}`, { status: from });
    const payload = await updateAsService(encodeGlobalID('Analysis', raw), { status: to });
    const { rows } = await db.owner.query<{ status: string }>('select status from public.analyses where id = $1', [raw]);
    if (ALLOWED.has(`${from}>${to}`)) {
      expect(payload).toMatchObject({ analysis: { status: to } });
      expect(rows[0]!.status).toBe(to);
    } else {
      expect(payload).toMatchObject({ code: 'INVALID_TRANSITION', message: expect.stringContaining(`from ${from} to ${to}`) });
      expect(rows[0]!.status).toBe(from);
    }
  });

  it('records the outcome as service_role; the creator, ADMIN and everyone else are refused and nothing changes', async () => {
    const { a, b } = world;
    const raw = await seedAnalysis(a.id, a.member.id, 'lifecycle');
    const id = encodeGlobalID('Analysis', raw);
    for (const [user, tenantId] of [
      [a.member, a.id],
      [a.admin, a.id],
      [a.owner, a.id],
      [a.viewer, a.id],
      [b.owner, a.id],
      [b.owner, b.id],
      [otherMember, a.id],
    ] as const) {
      expect(await update(user, tenantId, id, { status: 'PROCESSING' })).toMatchObject({ code: 'FORBIDDEN' });
    }
    expect(await update(null, undefined, id, { status: 'PROCESSING' })).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect((await db.owner.query('select status from public.analyses where id = $1', [raw])).rows).toEqual([{ status: 'PENDING' }]);

    expect(await updateAsService(id, { status: 'PROCESSING', model: 'm1' })).toMatchObject({ analysis: { status: 'PROCESSING', model: 'm1' } });
    expect(await updateAsService(id, { status: 'COMPLETED', confidence: 1.5 })).toMatchObject({
      code: 'VALIDATION_FAILED', message: expect.stringContaining('confidence'),
    });
    const done = await updateAsService(id, { status: 'COMPLETED', result: { label: 'ok' }, confidence: 0.75, processingTimeMs: 1200 });
    expect(done).toMatchObject({ analysis: { status: 'COMPLETED', result: { label: 'ok' }, confidence: 0.75, processingTimeMs: 1200, model: 'm1' } });
    expect(await updateAsService(encodeGlobalID('Analysis', randomUUID()), { status: 'PROCESSING' })).toMatchObject({ code: 'NOT_FOUND' });
  });
});
