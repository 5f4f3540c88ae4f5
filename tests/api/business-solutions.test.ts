import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createTestGateway } from '../support/gateway.ts';
import { grantCredits } from '../support/ledger.ts';
import { addMember, createUser, createWorld, insertRow, type World, type WorldUser } from '../support/world.ts';

let db: TestDatabase;
let world: World;
let api: ReturnType<typeof createTestGateway>;
/** A second MEMBER of tenant a: neither the creator of the rows under test nor an admin. */
let otherMember: WorldUser;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
  api = createTestGateway(db);
  otherMember = await createUser(db.owner, 'a-member-2');
  await addMember(db.owner, world.a.id, otherMember.id, 'MEMBER');
  // Requests are paid: enough for every request the cases below make.
  for (const [tenantId, user] of [[world.a.id, world.a.member], [world.b.id, world.b.member]] as const) {
    await grantCredits(db.owner, tenantId, user.id, 10_000);
  }
});
afterAll(() => db?.close());

interface Kind {
  type: string;
  table: string;
  list: string;
  /** Columns a row needs besides tenant and user. */
  seed: Record<string, unknown>;
  /** The columns `search` matches, when the kind has any. */
  searchColumns?: string[];
  /** Every kind-specific field, to prove each column is exposed and resolves. */
  fields: string;
  request: Record<string, unknown>;
  badRequest: { input: Record<string, unknown>; path: string };
  result: Record<string, unknown>;
  badResult: { input: Record<string, unknown>; path: string };
}

const KINDS: Kind[] = [
  {
    type: 'ContractAnalysis',
    table: 'contract_analyses',
    list: 'contractAnalyses',
    seed: { contract_title: 'Seeded contract', contract_type: 'NDA' },
    searchColumns: ['contract_title'],
    fields: 'contractTitle contractType fileUrl extractedText riskAssessment clauses plainLanguage complianceCheck recommendations',
    request: { contractTitle: 'Supplier NDA', contractType: 'NDA', fileUrl: 'https://files.example.test/nda.pdf', extractedText: 'Parties…' },
    badRequest: { input: { contractTitle: 'Fine', contractType: 'NDA', fileUrl: 'ftp://files.example.test/nda.pdf' }, path: 'fileUrl' },
    result: {
      riskAssessment: { level: 'low' },
      clauses: [{ name: 'term' }],
      plainLanguage: { summary: 'ok' },
      complianceCheck: { gdpr: true },
      recommendations: ['sign'],
    },
    badResult: { input: { confidence: 2 }, path: 'confidence' },
  },
  {
    type: 'LocalizationAnalysis',
    table: 'localization_analyses',
    list: 'localizationAnalyses',
    seed: { product_name: 'Seeded product', target_market: 'Japan' },
    searchColumns: ['product_name', 'target_market'],
    fields: 'productName targetMarket productImages productDescription culturalAnalysis visualAdaptation marketStrategy complianceCheck competitorAnalysis',
    request: { productName: 'Kettle', targetMarket: 'Japan', productImages: ['https://img.example.test/1.png'], productDescription: 'Steel' },
    badRequest: { input: { productName: 'Kettle', targetMarket: 'Japan', productImages: ['javascript:alert(1)'] }, path: 'productImages' },
    result: {
      culturalAnalysis: { fit: 'high' },
      visualAdaptation: {},
      marketStrategy: { channel: 'online' },
      complianceCheck: null,
      competitorAnalysis: [],
    },
    badResult: { input: { processingTimeMs: -1 }, path: 'processingTimeMs' },
  },
  {
    type: 'CustomerBehaviorAnalysis',
    table: 'customer_behavior_analyses',
    list: 'customerBehaviorAnalyses',
    seed: { customer_segment: 'Seeded segment' },
    searchColumns: ['customer_segment'],
    fields: 'customerSegment dataSource behaviorPrediction sentimentAnalysis journeyMapping recommendations conversionProbability churnRisk',
    request: { customerSegment: 'Returning buyers', dataSource: { crm: true, email: true } },
    badRequest: { input: { customerSegment: 'x'.repeat(201) }, path: 'customerSegment' },
    result: {
      behaviorPrediction: { next: 'buy' },
      sentimentAnalysis: { score: 0.5 },
      journeyMapping: [],
      recommendations: ['email'],
      conversionProbability: 0.25,
      churnRisk: 0.125,
    },
    badResult: { input: { churnRisk: 1.5 }, path: 'churnRisk' },
  },
  {
    type: 'ComplianceMonitoring',
    table: 'compliance_monitoring',
    list: 'complianceMonitoring',
    seed: { business_type: 'Seeded fintech', jurisdiction: 'EU' },
    searchColumns: ['business_type', 'jurisdiction'],
    fields: 'businessType jurisdiction regulations riskAssessment documentReviews actionPlan auditPreparation trainingMaterials nextReviewDate',
    request: { businessType: 'Payments', jurisdiction: 'EU', regulations: ['PSD2'] },
    badRequest: { input: { businessType: '   ', jurisdiction: 'EU' }, path: 'businessType' },
    result: {
      riskAssessment: { level: 'medium' },
      documentReviews: [],
      actionPlan: { steps: 3 },
      auditPreparation: {},
      trainingMaterials: ['deck'],
      nextReviewDate: '2026-03-01T00:00:00.000Z',
    },
    badResult: { input: { confidence: -0.5 }, path: 'confidence' },
  },
  {
    type: 'LearningPath',
    table: 'learning_paths',
    list: 'learningPaths',
    seed: {},
    fields: 'userProfile skillAssessment learningStyle generatedPath progressTracking certifications recommendations estimatedCompletion',
    request: { userProfile: { skills: ['sql'], goals: ['graphql'] } },
    badRequest: { input: { metadata: [1, 2] }, path: 'metadata' },
    result: {
      skillAssessment: { sql: 3 },
      learningStyle: { visual: true },
      generatedPath: [{ step: 1 }],
      progressTracking: {},
      certifications: [],
      recommendations: ['practice'],
      estimatedCompletion: '2026-06-30T12:00:00.000Z',
    },
    badResult: { input: { confidence: 2, processingTimeMs: 5 }, path: 'confidence' },
  },
];

const lowerFirst = (s: string) => s[0]!.toLowerCase() + s.slice(1);
const rawId = (globalId: string) => Buffer.from(globalId, 'base64').toString().split(':')[1]!;
type Outcome = { __typename: string; code?: string; message?: string; node?: Record<string, unknown> };
/** A validation message names the field, what was expected and what was received. */
const invalidField = (path: string) => ({
  code: 'VALIDATION_FAILED',
  message: expect.stringMatching(new RegExp(`${path}[.\\w]*: expected .+received`)),
});

describe.each(KINDS)('$type', (kind) => {
  const requestName = `request${kind.type}`;
  const updateName = `update${kind.type}Result`;
  const selection = `id status confidence processingTimeMs metadata project { id } requestedBy { id } ${kind.fields}`;
  const REQUEST = `mutation ($input: Request${kind.type}Input!) {
    result: ${requestName}(input: $input) {
      __typename
      ... on MutationRequest${kind.type}Success { node: ${lowerFirst(kind.type)} { ${selection} } }
      ... on MutationError { code message }
    }
  }`;
  const UPDATE = `mutation ($id: ID!, $input: Update${kind.type}ResultInput!) {
    result: ${updateName}(id: $id, input: $input) {
      __typename
      ... on MutationUpdate${kind.type}ResultSuccess { node: ${lowerFirst(kind.type)} { ${selection} } }
      ... on MutationError { code message }
    }
  }`;
  const LIST = `query ($filter: ${kind.type}Filter) {
    list: ${kind.list}(filter: $filter, orderBy: CREATED_AT, direction: ASC) { totalCount edges { node { id status createdAt } } }
  }`;

  const seed = (tenantId: string, userId: string, extra: Record<string, unknown> = {}) =>
    db.owner.transaction((tx) => insertRow(tx, kind.table, { tenant_id: tenantId, user_id: userId, ...kind.seed, ...extra }));
  const seedProject = (tenantId: string, userId: string) =>
    db.owner.transaction((tx) => insertRow(tx, 'projects', { tenant_id: tenantId, user_id: userId, name: `For ${kind.type}` }));
  const rowCount = async () => (await db.owner.query<{ n: number }>(`select count(*)::int as n from public.${kind.table}`)).rows[0]!.n;
  const statusOf = async (id: string) =>
    (await db.owner.query<{ status: string }>(`select status::text from public.${kind.table} where id = $1`, [id])).rows[0]?.status;
  const request = (user: WorldUser, tenantId: string | undefined, input: Record<string, unknown>) =>
    api.as<{ result: Outcome }>(user, tenantId, REQUEST, { input }).then((r) => r.body.data!.result);
  /** Results are recorded by service_role (the worker); everyone else is refused. */
  const update = (id: string, input: Record<string, unknown>) =>
    api.asService<{ result: Outcome }>(UPDATE, { id: encodeGlobalID(kind.type, id), input }).then((r) => r.body.data!.result);
  const updateAs = (user: WorldUser, tenantId: string, id: string, input: Record<string, unknown>) =>
    api.as<{ result: Outcome }>(user, tenantId, UPDATE, { id: encodeGlobalID(kind.type, id), input }).then((r) => r.body.data!.result);

  it('a MEMBER requests one: stored PENDING, as the caller, in the active tenant', async () => {
    const project = await seedProject(world.a.id, world.a.owner.id);
    const result = await request(world.a.member, world.a.id, {
      ...kind.request,
      projectId: encodeGlobalID('Project', project),
      metadata: { source: 'test' },
    });
    expect(result).toMatchObject({
      __typename: `MutationRequest${kind.type}Success`,
      node: {
        ...kind.request,
        status: 'PENDING',
        confidence: null,
        metadata: { source: 'test' },
        project: { id: encodeGlobalID('Project', project) },
        requestedBy: { id: encodeGlobalID('User', world.a.member.id) },
      },
    });
    const { rows } = await db.owner.query(`select tenant_id, user_id, project_id, status::text from public.${kind.table} where id = $1`, [
      rawId(result.node!.id as string),
    ]);
    expect(rows).toEqual([{ tenant_id: world.a.id, user_id: world.a.member.id, project_id: project, status: 'PENDING' }]);
  });

  it('VIEWER, anonymous, tenantless and forged-tenant callers are refused and nothing is written', async () => {
    const before = await rowCount();
    expect(await request(world.a.viewer, world.a.id, kind.request)).toMatchObject({ code: 'FORBIDDEN' });
    const anon = await api.graphql<{ result: Outcome }>(REQUEST, { variables: { input: kind.request } });
    expect(anon.body.data!.result).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(await request(world.outsider, undefined, kind.request)).toMatchObject({ code: 'FORBIDDEN' });
    expect(await request(world.b.owner, world.a.id, kind.request)).toMatchObject({ code: 'FORBIDDEN' });
    expect(await rowCount()).toBe(before);
  });

  it('invalid input and a project of another tenant fail and write nothing', async () => {
    const before = await rowCount();
    const invalid = await request(world.a.member, world.a.id, kind.badRequest.input);
    expect(invalid).toMatchObject(invalidField(kind.badRequest.path));
    const foreignProject = encodeGlobalID('Project', await seedProject(world.b.id, world.b.owner.id));
    const foreign = await request(world.a.member, world.a.id, { ...kind.request, projectId: foreignProject });
    expect(foreign).toMatchObject({ __typename: 'MutationError', code: 'NOT_FOUND' });
    // Tenant b's own member, with tenant b's token, cannot attach to tenant a's project either.
    const ownProject = encodeGlobalID('Project', await seedProject(world.a.id, world.a.owner.id));
    expect(await request(world.b.member, world.b.id, { ...kind.request, projectId: ownProject })).toMatchObject({ code: 'NOT_FOUND' });
    expect(await rowCount()).toBe(before);
  });

  it('lists only the active tenant’s rows, with totalCount and filters; node() hides other tenants', async () => {
    const project = await seedProject(world.a.id, world.a.owner.id);
    const token = `needle-${kind.table}`;
    const text = kind.searchColumns ? { [kind.searchColumns[0]!]: `Seeded ${token}` } : {};
    const first = await seed(world.a.id, world.a.member.id, { project_id: project, created_at: '2025-02-01T00:00:00Z', ...text });
    const second = await seed(world.a.id, world.a.admin.id, { project_id: project, status: 'COMPLETED', created_at: '2025-02-02T00:00:00Z' });
    const foreign = await seed(world.b.id, world.b.member.id, text);
    type List = { list: { totalCount: number; edges: { node: { id: string; status: string } }[] } };
    const list = async (filter?: Record<string, unknown>) =>
      (await api.as<List>(world.a.viewer, world.a.id, LIST, { filter })).body.data!.list;
    const ids = (result: List['list']) => result.edges.map((edge) => rawId(edge.node.id));

    const all = await list();
    expect(ids(all)).toEqual(expect.arrayContaining([first, second]));
    expect(ids(all)).not.toContain(foreign);
    expect(all.totalCount).toBe(all.edges.length);
    const byProject = await list({ projectId: encodeGlobalID('Project', project) });
    expect(ids(byProject)).toEqual([first, second]);
    const completed = await list({ projectId: encodeGlobalID('Project', project), status: ['COMPLETED'] });
    expect({ ids: ids(completed), totalCount: completed.totalCount }).toEqual({ ids: [second], totalCount: 1 });
    const inRange = await list({ projectId: encodeGlobalID('Project', project), createdAt: { to: '2025-02-01T12:00:00Z' } });
    expect(ids(inRange)).toEqual([first]);
    if (kind.searchColumns) {
      const searched = await list({ search: token.toUpperCase() });
      expect({ ids: ids(searched), totalCount: searched.totalCount }).toEqual({ ids: [first], totalCount: 1 });
      // Each searched column matches on its own, case-insensitively.
      for (const column of kind.searchColumns) {
        const row = await seed(world.a.id, world.a.member.id, { [column]: `Only ${token} in ${column}` });
        const found = await list({ search: `${token} IN ${column}`.toLowerCase() });
        expect({ column, ids: ids(found), totalCount: found.totalCount }).toEqual({ column, ids: [row], totalCount: 1 });
      }
    }

    const node = 'query ($id: ID!) { node(id: $id) { __typename id } }';
    const hidden = await api.as(world.a.owner, world.a.id, node, { id: encodeGlobalID(kind.type, foreign) });
    expect(hidden.body).toEqual({ data: { node: null } });
    const visible = await api.as(world.a.viewer, world.a.id, node, { id: encodeGlobalID(kind.type, first) });
    expect(visible.body).toEqual({ data: { node: { __typename: kind.type, id: encodeGlobalID(kind.type, first) } } });
  });

  it('service_role records results on the way PENDING -> PROCESSING -> COMPLETED; null clears one', async () => {
    const id = await seed(world.a.id, world.a.member.id);
    const processing = await update(id, { status: 'PROCESSING', ...kind.result, confidence: 0.75, processingTimeMs: 1200 });
    expect(processing).toMatchObject({ node: { status: 'PROCESSING', confidence: 0.75, processingTimeMs: 1200, ...kind.result } });
    const completed = await update(id, { status: 'COMPLETED', confidence: null });
    expect(completed).toMatchObject({ node: { status: 'COMPLETED', confidence: null, processingTimeMs: 1200 } });
    // Staying put is no move: a finished row's results can still be corrected.
    const [firstResult] = Object.keys(kind.result);
    const cleared = await update(id, { status: 'COMPLETED', [firstResult!]: null });
    expect(cleared).toMatchObject({ node: { status: 'COMPLETED', [firstResult!]: null } });
    expect(await statusOf(id)).toBe('COMPLETED');
  });

  it('its creator, an ADMIN, other members, another tenant and anonymous callers cannot record results', async () => {
    const id = await seed(world.a.id, world.a.member.id, { status: 'PROCESSING' });
    for (const [user, tenantId] of [
      [world.a.member, world.a.id],
      [world.a.admin, world.a.id],
      [world.a.owner, world.a.id],
      [otherMember, world.a.id],
      [world.a.viewer, world.a.id],
      [world.b.owner, world.b.id],
    ] as const) {
      expect(await updateAs(user, tenantId, id, { status: 'COMPLETED' })).toMatchObject({ code: 'FORBIDDEN' });
    }
    const notAnId = await api.asService<{ result: Outcome }>(UPDATE, {
      id: encodeGlobalID(kind.type, 'not-a-uuid'),
      input: { status: 'COMPLETED' },
    });
    expect(notAnId.body.data!.result).toMatchObject({ code: 'NOT_FOUND' });
    const anon = await api.graphql<{ result: Outcome }>(UPDATE, {
      variables: { id: encodeGlobalID(kind.type, id), input: { status: 'COMPLETED' } },
    });
    expect(anon.body.data!.result).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(await statusOf(id)).toBe('PROCESSING');
  });

  it('refuses a move back to PENDING and invalid results, changing nothing', async () => {
    const id = await seed(world.a.id, world.a.member.id, { status: 'COMPLETED', processing_time_ms: 7 });
    const back = await update(id, { status: 'PENDING', processingTimeMs: 1 });
    expect(back).toMatchObject({ code: 'INVALID_TRANSITION', message: expect.stringContaining('cannot move from COMPLETED to PENDING') });
    const invalid = await update(id, { status: 'FAILED', ...kind.badResult.input });
    expect(invalid).toMatchObject(invalidField(kind.badResult.path));
    expect(await update(id, { status: null })).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: 'expected at least one field to set in input, received none',
    });
    const { rows } = await db.owner.query(`select status::text, processing_time_ms from public.${kind.table} where id = $1`, [id]);
    expect(rows).toEqual([{ status: 'COMPLETED', processing_time_ms: 7 }]);
    // PENDING to PENDING is no step back.
    const pending = await seed(world.a.id, world.a.member.id);
    expect(await update(pending, { status: 'PENDING' })).toMatchObject({ node: { status: 'PENDING' } });
  });
});
