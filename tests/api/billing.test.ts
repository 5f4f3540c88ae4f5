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

describe('grantCredits', () => {
  const GRANT = `mutation ($input: GrantCreditsInput!) {
    grantCredits(input: $input) {
      ... on MutationGrantCreditsSuccess { transaction { amount kind reason balanceAfter user { id } } }
      ... on MutationError { code message }
    }
  }`;
  type Result = { grantCredits: { transaction?: Record<string, unknown>; code?: string } };
  const grant = (by: WorldUser, tenantId: string, to: string, amount = 25, reason = 'welcome') =>
    api.as<Result>(by, tenantId, GRANT, { input: { userId: to, amount, reason } }).then((r) => r.body.data!.grantCredits);
  const balance = (user: WorldUser) =>
    api.as<{ viewer: { creditBalance: number } }>(user, world.a.id, '{ viewer { creditBalance } }').then((r) => r.body.data!.viewer.creditBalance);

  it('lets ADMIN and up grant to a member of the active tenant', async () => {
    const start = await balance(world.a.viewer);
    expect(await grant(world.a.admin, world.a.id, userId(world.a.viewer))).toEqual({
      transaction: { amount: 25, kind: 'GRANT', reason: 'welcome', balanceAfter: start + 25, user: { id: userId(world.a.viewer) } },
    });
    expect(await grant(world.a.owner, world.a.id, userId(world.a.viewer), 1_000_000)).toMatchObject({ transaction: { amount: 1_000_000 } });
    expect(await balance(world.a.viewer)).toBe(start + 1_000_025);
    const { rows } = await db.owner.query(
      "select actor_id, action from public.audit_logs where table_name = 'credit_transactions' and new_values ->> 'user_id' = $1 order by seq",
      [world.a.viewer.id],
    );
    expect(rows).toEqual([{ actor_id: world.a.admin.id, action: 'INSERT' }, { actor_id: world.a.owner.id, action: 'INSERT' }]);
  });

  it('refuses MEMBER, users of another tenant, bad amounts and ids that are not Users, writing nothing', async () => {
    const before = await balance(world.a.member);
    expect(await grant(world.a.member, world.a.id, userId(world.a.member))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await grant(world.a.viewer, world.a.id, userId(world.a.member))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await grant(world.b.admin, world.a.id, userId(world.a.member))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await grant(world.a.admin, world.a.id, userId(world.b.member))).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await grant(world.a.admin, world.a.id, userId(world.outsider))).toMatchObject({ code: 'VALIDATION_FAILED' });
    for (const amount of [0, -5, 1_000_001]) {
      expect(await grant(world.a.admin, world.a.id, userId(world.a.member), amount)).toMatchObject({ code: 'VALIDATION_FAILED' });
    }
    expect(await grant(world.a.admin, world.a.id, userId(world.a.member), 5, '  ')).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await grant(world.a.admin, world.a.id, encodeGlobalID('Tenant', world.a.member.id))).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await grant(world.a.admin, world.a.id, encodeGlobalID('User', 'not-a-uuid'))).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await balance(world.a.member)).toBe(before);
  });
});

describe('auditLogs', () => {
  const QUERY = `query ($filter: AuditLogFilter) {
    auditLogs(filter: $filter) { totalCount edges { node { actorId actorRole tableName rowId action oldValues newValues createdAt } } }
  }`;
  type Entry = { actorId: string | null; action: string; tableName: string; rowId: string; oldValues: Record<string, unknown> | null; newValues: Record<string, unknown> | null };
  type Result = { auditLogs: { totalCount: number; edges: { node: Entry }[] } };

  it('record a GraphQL mutation with its actor, for OWNER and ADMIN of the tenant only', async () => {
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

    for (const user of [world.a.member, world.a.viewer]) {
      const refused = await api.as(user, world.a.id, QUERY, { filter });
      expect({ code: codeOf(refused), data: refused.body.data }).toEqual({ code: 'FORBIDDEN', data: null });
    }
    expect((await api.as<Result>(world.b.owner, world.b.id, QUERY, { filter })).body.data!.auditLogs.totalCount).toBe(0);
    expect(codeOf(await api.as(world.b.owner, world.a.id, QUERY, { filter }))).toBe('FORBIDDEN');
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
