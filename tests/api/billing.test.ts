import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createTestGateway } from '../support/gateway.ts';
import { as, claimsOf, createWorld, insertRow, SERVICE, type World, type WorldUser } from '../support/world.ts';

let db: TestDatabase;
let world: World;
let api: ReturnType<typeof createTestGateway>;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
  api = createTestGateway(db);
});
afterAll(() => db?.close());

const userId = (user: WorldUser) => encodeGlobalID('User', user.id);
const codeOf = (response: { body: { errors?: { extensions?: { code?: string } }[] } }) => response.body.errors?.[0]?.extensions?.code;

describe('subscriptions', () => {
  const QUERY = '{ subscriptions { id plan status currentPeriodStart cancelAtPeriodEnd metadata usage { metric period value } } }';
  type Result = { subscriptions: { id: string; plan: string; usage: { metric: string; value: number }[] }[] };

  it('are visible to OWNER and ADMIN of their tenant only', async () => {
    const id = await db.owner.transaction(async (tx) => {
      const subscription = await insertRow(tx, 'subscriptions', {
        tenant_id: world.a.id,
        plan: 'PRO',
        status: 'ACTIVE',
        current_period_start: '2025-09-01T00:00:00Z',
        current_period_end: '2025-10-01T00:00:00Z',
        metadata: { seats: 5 },
      });
      await insertRow(tx, 'subscription_usage', { tenant_id: world.a.id, subscription_id: subscription, metric: 'api_calls', period: '2025-09', value: 5_000_000_000 });
      await insertRow(tx, 'subscription_usage', { tenant_id: world.a.id, subscription_id: subscription, metric: 'api_calls', period: '2025-08', value: 7 });
      return subscription;
    });
    for (const user of [world.a.owner, world.a.admin]) {
      const response = await api.as<Result>(user, world.a.id, QUERY);
      expect(response.body.data!.subscriptions).toEqual([
        {
          id: encodeGlobalID('BillingSubscription', id),
          plan: 'PRO',
          status: 'ACTIVE',
          currentPeriodStart: '2025-09-01T00:00:00.000Z',
          cancelAtPeriodEnd: false,
          metadata: { seats: 5 },
          usage: [
            { metric: 'api_calls', period: '2025-09', value: 5_000_000_000 },
            { metric: 'api_calls', period: '2025-08', value: 7 },
          ],
        },
      ]);
    }
    for (const user of [world.a.member, world.a.viewer]) {
      const response = await api.as(user, world.a.id, QUERY);
      expect({ code: codeOf(response), data: response.body.data }).toEqual({ code: 'FORBIDDEN', data: null });
    }
    expect((await api.as<Result>(world.b.owner, world.b.id, QUERY)).body.data).toEqual({ subscriptions: [] });
    expect(codeOf(await api.as(world.b.owner, world.a.id, QUERY))).toBe('FORBIDDEN');
    expect(codeOf(await api.graphql(QUERY))).toBe('UNAUTHENTICATED');
    const node = 'query ($id: ID!) { node(id: $id) { id } }';
    expect((await api.as(world.b.owner, world.b.id, node, { id: encodeGlobalID('BillingSubscription', id) })).body.data).toEqual({ node: null });
  });
});

describe('creditTransactions', () => {
  const QUERY = `query ($filter: CreditTransactionFilter) {
    creditTransactions(filter: $filter) { totalCount edges { node { amount kind reason balanceAfter user { id } } } }
  }`;
  type Result = { creditTransactions: { totalCount: number; edges: { node: { amount: number; kind: string; user: { id: string } | null } }[] } };
  const list = async (user: WorldUser, tenantId: string, filter?: Record<string, unknown>) =>
    (await api.as<Result>(user, tenantId, QUERY, { filter })).body.data!.creditTransactions;

  beforeAll(async () => {
    const grant = (user: WorldUser, tenantId: string, amount: number) =>
      as(db.gateway, SERVICE, 'select public.grant_credits($1, $2, $3, $4, $5)', [user.id, amount, 'seed', 'PURCHASE', tenantId]);
    await grant(world.b.member, world.b.id, 100);
    await grant(world.b.viewer, world.b.id, 50);
    await grant(world.a.member, world.a.id, 999);
    await as(db.gateway, claimsOf(world.b.member, world.b.id), "select public.spend_credits(30, 'used')");
  });

  it('show members their own entries and ADMIN and up the tenant’s, newest first', async () => {
    const own = await list(world.b.member, world.b.id);
    expect(own.totalCount).toBe(2);
    expect(own.edges.map((e) => e.node)).toEqual([
      { amount: -30, kind: 'SPEND', reason: 'used', balanceAfter: 70, user: { id: userId(world.b.member) } },
      { amount: 100, kind: 'PURCHASE', reason: 'seed', balanceAfter: 100, user: { id: userId(world.b.member) } },
    ]);
    expect((await list(world.b.viewer, world.b.id)).totalCount).toBe(1);
    expect((await list(world.b.member, world.b.id, { userId: userId(world.b.viewer) })).totalCount).toBe(0);
    for (const admin of [world.b.admin, world.b.owner]) expect((await list(admin, world.b.id)).totalCount).toBe(3);
    expect((await list(world.b.admin, world.b.id, { userId: userId(world.b.viewer) })).totalCount).toBe(1);
    expect((await list(world.b.admin, world.b.id, { kind: ['SPEND'] })).edges.map((e) => e.node.amount)).toEqual([-30]);
    expect((await list(world.b.admin, world.b.id, { createdAt: { to: '2000-01-01T00:00:00Z' } })).totalCount).toBe(0);
    expect((await list(world.a.admin, world.b.id)).totalCount).toBe(0);
  });

  it('refuse anonymous callers and a userId that is not a User', async () => {
    expect(codeOf(await api.graphql(QUERY))).toBe('UNAUTHENTICATED');
    const wrong = await api.as(world.b.admin, world.b.id, QUERY, { filter: { userId: encodeGlobalID('Project', world.b.member.id) } });
    expect(codeOf(wrong)).toBe('VALIDATION_FAILED');
  });
});

describe('grantCredits and allocateCredits', () => {
  const GRANT = `mutation ($input: GrantCreditsInput!) {
    grantCredits(input: $input) {
      ... on MutationGrantCreditsSuccess { transaction { amount kind reason balanceAfter user { id } } }
      ... on MutationError { code message }
    }
  }`;
  const ALLOCATE = `mutation ($input: AllocateCreditsInput!) {
    allocateCredits(input: $input) {
      ... on MutationAllocateCreditsSuccess { transaction { amount kind reason balanceAfter user { id } } }
      ... on MutationError { code message }
    }
  }`;
  type Grant = { grantCredits: { transaction?: Record<string, unknown>; code?: string } };
  type Allocate = { allocateCredits: { transaction?: Record<string, unknown>; code?: string } };
  const tenantA = () => encodeGlobalID('Tenant', world.a.id);
  const grant = (input: Record<string, unknown>) =>
    api.asService<Grant>(GRANT, { input: { tenantId: tenantA(), reason: 'plan', ...input } }).then((r) => r.body.data!.grantCredits);
  const allocate = (by: WorldUser, tenantId: string, to: string, amount = 25, reason = 'welcome') =>
    api.as<Allocate>(by, tenantId, ALLOCATE, { input: { userId: to, amount, reason } }).then((r) => r.body.data!.allocateCredits);
  const balance = (user: WorldUser) =>
    api.as<{ viewer: { creditBalance: number } }>(user, world.a.id, '{ viewer { creditBalance } }').then((r) => r.body.data!.viewer.creditBalance);
  const pool = (user: WorldUser) =>
    api.as<{ viewer: { tenantCreditPool: number | null } }>(user, world.a.id, '{ viewer { tenantCreditPool } }').then((r) => r.body.data!.viewer.tenantCreditPool);

  it('service_role fills the pool; ADMIN and up allocate from it to members', async () => {
    expect(await grant({ amount: 1000, kind: 'PURCHASE' })).toEqual({
      transaction: { amount: 1000, kind: 'PURCHASE', reason: 'plan', balanceAfter: expect.any(Number), user: null },
    });
    const start = await balance(world.a.viewer);
    const poolBefore = (await pool(world.a.admin))!;
    expect(await allocate(world.a.admin, world.a.id, userId(world.a.viewer))).toEqual({
      transaction: { amount: 25, kind: 'ALLOCATION', reason: 'welcome', balanceAfter: start + 25, user: { id: userId(world.a.viewer) } },
    });
    expect(await pool(world.a.owner)).toBe(poolBefore - 25);
    expect(await pool(world.a.member)).toBeNull();
    expect(await allocate(world.a.owner, world.a.id, userId(world.a.viewer), poolBefore)).toMatchObject({ code: 'INSUFFICIENT_CREDITS' });
    expect(await balance(world.a.viewer)).toBe(start + 25);
    const { rows } = await db.owner.query(
      "select actor_id, amount from public.audit_logs a cross join lateral (select (new_values ->> 'amount')::int as amount) v where table_name = 'credit_transactions' and new_values ->> 'kind' = 'ALLOCATION' and tenant_id = $1 order by seq",
      [world.a.id],
    );
    expect(rows).toEqual([{ actor_id: world.a.admin.id, amount: -25 }, { actor_id: world.a.admin.id, amount: 25 }]);
  });

  it('service_role grants to a member too; nobody else grants at all', async () => {
    const start = await balance(world.a.member);
    expect(await grant({ userId: userId(world.a.member), amount: 40, kind: 'GRANT' })).toMatchObject({ transaction: { amount: 40, kind: 'GRANT' } });
    expect(await balance(world.a.member)).toBe(start + 40);
    for (const user of [world.a.owner, world.a.admin, world.a.member]) {
      const refused = await api.as<Grant>(user, world.a.id, GRANT, { input: { tenantId: tenantA(), userId: userId(user), amount: 5, reason: 'x' } });
      expect(refused.body.data!.grantCredits).toMatchObject({ code: 'FORBIDDEN' });
    }
    expect(await grant({ userId: userId(world.b.member), amount: 5 })).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await grant({ amount: 5, kind: 'SPEND' })).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await balance(world.a.member)).toBe(start + 40);
  });

  it('allocateCredits refuses MEMBER, users of another tenant, bad amounts and ids that are not Users, writing nothing', async () => {
    await grant({ amount: 500 });
    const before = await balance(world.a.member);
    expect(await allocate(world.a.member, world.a.id, userId(world.a.member))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await allocate(world.a.viewer, world.a.id, userId(world.a.member))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await allocate(world.b.admin, world.a.id, userId(world.a.member))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await allocate(world.a.admin, world.a.id, userId(world.b.member))).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await allocate(world.a.admin, world.a.id, userId(world.outsider))).toMatchObject({ code: 'VALIDATION_FAILED' });
    for (const amount of [0, -5, 1_000_001]) {
      expect(await allocate(world.a.admin, world.a.id, userId(world.a.member), amount)).toMatchObject({ code: 'VALIDATION_FAILED' });
    }
    expect(await allocate(world.a.admin, world.a.id, userId(world.a.member), 5, '  ')).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await allocate(world.a.admin, world.a.id, encodeGlobalID('Tenant', world.a.member.id))).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await allocate(world.a.admin, world.a.id, encodeGlobalID('User', 'not-a-uuid'))).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await balance(world.a.member)).toBe(before);
  });
});

describe('auditLogs', () => {
  const QUERY = `query ($filter: AuditLogFilter) {
    auditLogs(filter: $filter) { totalCount edges { node { actorId actorRole tableName rowId action oldValues newValues createdAt } } }
  }`;
  type Entry = { actorId: string | null; action: string; tableName: string; rowId: string; oldValues: Record<string, unknown> | null; newValues: Record<string, unknown> | null };
  type Result = { auditLogs: { totalCount: number; edges: { node: Entry }[] } };

  it('record a GraphQL mutation with its actor, readable by OWNER and ADMIN of the tenant only', async () => {
    const created = await api.as<{ createProject: { project: { id: string } } }>(
      world.a.member,
      world.a.id,
      'mutation { createProject(input: { name: "Audited" }) { ... on MutationCreateProjectSuccess { project { id } } } }',
    );
    const globalId = created.body.data!.createProject.project.id;
    const rowId = Buffer.from(globalId, 'base64').toString().split(':')[1]!;
    await api.as(world.a.admin, world.a.id, 'mutation ($id: ID!) { archiveProject(id: $id) { __typename } }', { id: globalId });

    const filter = { tableName: 'projects', rowId };
    for (const reader of [world.a.owner, world.a.admin]) {
      const trail = (await api.as<Result>(reader, world.a.id, QUERY, { filter })).body.data!.auditLogs;
      expect(trail.totalCount).toBe(2);
      const [update, insert] = trail.edges.map((e) => e.node);
      expect(insert).toMatchObject({ actorId: world.a.member.id, actorRole: 'authenticated', tableName: 'projects', rowId, action: 'INSERT', oldValues: null });
      expect(insert!.newValues).toMatchObject({ name: 'Audited', status: 'ACTIVE', user_id: world.a.member.id });
      expect(update).toMatchObject({ actorId: world.a.admin.id, action: 'UPDATE', oldValues: { status: 'ACTIVE' }, newValues: { status: 'ARCHIVED' } });
    }
    const inserts = (await api.as<Result>(world.a.owner, world.a.id, QUERY, { filter: { ...filter, action: ['INSERT'] } })).body.data!.auditLogs;
    expect(inserts.edges.map((e) => e.node.action)).toEqual(['INSERT']);

    // Others read only the entries of their own private rows: none here.
    for (const [user, tenantId] of [[world.a.member, world.a.id], [world.a.viewer, world.a.id], [world.b.owner, world.b.id], [world.b.owner, world.a.id]] as const) {
      expect((await api.as<Result>(user, tenantId, QUERY, { filter })).body.data!.auditLogs.totalCount).toBe(0);
    }
    expect(codeOf(await api.graphql(QUERY, { variables: { filter } }))).toBe('UNAUTHENTICATED');
  });

  it('list the tenant’s trail newest first and validate filters', async () => {
    const trail = (await api.as<Result>(world.a.owner, world.a.id, '{ auditLogs(first: 100) { edges { node { tableName createdAt } } } }')).body.data!
      .auditLogs.edges.map((e) => e.node as unknown as { createdAt: string });
    const times = trail.map((entry) => Date.parse(entry.createdAt));
    expect(times.length).toBeGreaterThan(1);
    expect(times).toEqual([...times].sort((x, y) => y - x));
    for (const filter of [{ rowId: 'not-a-uuid' }, { tableName: 'projects; drop table x' }]) {
      expect(codeOf(await api.as(world.a.owner, world.a.id, QUERY, { filter }))).toBe('VALIDATION_FAILED');
    }
  });
});
