import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { ANON, as, claimsOf, createWorld, insertRow, SERVICE, sqlState, type World } from '../support/world.ts';

let db: TestDatabase;
let world: World;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
});
afterAll(() => db?.close());

describe('subscriptions and subscription_usage', () => {
  it('OWNER and ADMIN read their tenant’s; members, viewers and other tenants do not', async () => {
    const subscription = await db.owner.transaction((tx) =>
      insertRow(tx, 'subscriptions', {
        tenant_id: world.a.id,
        plan: 'PRO',
        status: 'ACTIVE',
        current_period_start: '2025-09-01T00:00:00Z',
        current_period_end: '2025-10-01T00:00:00Z',
      }),
    );
    await db.owner.transaction((tx) =>
      insertRow(tx, 'subscription_usage', { tenant_id: world.a.id, subscription_id: subscription, metric: 'api_calls', period: '2025-09', value: 42 }),
    );
    const read = async (user: typeof world.a.owner, tenantId: string) => [
      (await as(db.gateway, claimsOf(user, tenantId), 'select id from public.subscriptions')).length,
      (await as(db.gateway, claimsOf(user, tenantId), 'select id from public.subscription_usage')).length,
    ];
    expect(await read(world.a.owner, world.a.id)).toEqual([1, 1]);
    expect(await read(world.a.admin, world.a.id)).toEqual([1, 1]);
    expect(await read(world.a.member, world.a.id)).toEqual([0, 0]);
    expect(await read(world.a.viewer, world.a.id)).toEqual([0, 0]);
    expect(await read(world.b.owner, world.b.id)).toEqual([0, 0]);
    expect(await read(world.b.owner, world.a.id)).toEqual([0, 0]);
    expect(await as(db.gateway, ANON, 'select id from public.subscriptions')).toEqual([]);
  });

  it('only service_role writes them', async () => {
    const insert = (claims: Parameters<typeof as>[1]) =>
      sqlState(
        as(
          db.gateway,
          claims,
          "insert into public.subscriptions (tenant_id, plan, status, current_period_start, current_period_end) values ($1, 'ENTERPRISE', 'PENDING', now(), now() + interval '1 month')",
          [world.b.id],
        ),
      );
    expect(await insert(claimsOf(world.b.owner, world.b.id))).toBe('42501');
    expect(await insert(SERVICE)).toBe('ok');
    expect(await sqlState(as(db.gateway, claimsOf(world.b.owner, world.b.id), "update public.subscriptions set plan = 'FREE'"))).toBe('42501');
    expect(await sqlState(as(db.gateway, claimsOf(world.b.owner, world.b.id), 'delete from public.subscription_usage'))).toBe('42501');
  });

  it('a tenant has at most one current subscription', async () => {
    const second = sqlState(
      as(
        db.gateway,
        SERVICE,
        "insert into public.subscriptions (tenant_id, plan, status, current_period_start, current_period_end) values ($1, 'BASIC', 'ACTIVE', now(), now() + interval '1 month')",
        [world.b.id],
      ),
    );
    expect(await second).toBe('23505');
  });
});

describe('credit_transactions', () => {
  const balance = (user: typeof world.a.member, tenantId: string) =>
    as<{ balance: string | number }>(db.gateway, claimsOf(user, tenantId), 'select public.credit_balance() as balance').then((rows) =>
      Number(rows[0]!.balance),
    );

  it('are added by service_role only, to a member or to the tenant’s pool; nobody else adds any', async () => {
    const grant = (claims: Parameters<typeof as>[1], userId: string | null, amount: number, kind = 'GRANT', tenantId: string | null = world.a.id) =>
      sqlState(as(db.gateway, claims, 'select public.grant_credits($1, $2, $3, $4, $5)', [userId, amount, 'test', kind, tenantId]));
    expect(await grant(SERVICE, world.a.member.id, 500, 'PURCHASE')).toBe('ok');
    expect(await grant(SERVICE, world.a.member.id, 100)).toBe('ok');
    expect(await grant(SERVICE, null, 100, 'PURCHASE')).toBe('ok');
    expect(await grant(SERVICE, world.a.member.id, 100, 'SPEND')).toBe('22023');
    expect(await grant(SERVICE, world.a.member.id, 100, 'ALLOCATION')).toBe('22023');
    expect(await grant(SERVICE, world.b.member.id, 100)).toBe('22023');
    expect(await grant(SERVICE, world.a.member.id, -5)).toBe('22023');
    expect(await grant(SERVICE, world.a.member.id, 5, 'GRANT', null)).toBe('22023');
    for (const user of [world.a.owner, world.a.admin, world.a.member]) {
      expect(await grant(claimsOf(user, world.a.id), world.a.member.id, 100)).toBe('42501');
      expect(await grant(claimsOf(user, world.a.id), null, 100, 'PURCHASE')).toBe('42501');
    }
    // A role claim alone is not service_role: the request must run as that role too.
    expect(await grant(claimsOf(world.a.admin, world.a.id, { role: 'authenticated', app_metadata: { tenant_id: world.a.id } }), null, 1)).toBe('42501');
    expect(await sqlState(as(db.gateway, ANON, "select public.grant_credits($1, 10, 'x')", [world.a.member.id]))).toBe('42501');
    expect(await balance(world.a.member, world.a.id)).toBe(600);
  });

  it('spend_credits refuses to overdraw and writes nothing when it refuses', async () => {
    await as(db.gateway, SERVICE, "select public.grant_credits($1, 50, 'seed', 'GRANT', $2)", [world.b.member.id, world.b.id]);
    const spend = (amount: number) =>
      sqlState(as(db.gateway, claimsOf(world.b.member, world.b.id), "select public.spend_credits($1, 'analysis')", [amount]));
    expect(await spend(30)).toBe('ok');
    expect(await spend(30)).toBe('GW001');
    expect(await spend(0)).toBe('22023');
    expect(await balance(world.b.member, world.b.id)).toBe(20);
    const entries = await db.owner.query('select amount, kind, balance_after from public.credit_transactions where user_id = $1 order by seq', [
      world.b.member.id,
    ]);
    expect(entries.rows.map((r) => [Number(r.amount), r.kind, Number(r.balance_after)])).toEqual([
      [50, 'GRANT', 50],
      [-30, 'SPEND', 20],
    ]);
    expect(await sqlState(as(db.gateway, claimsOf(world.b.viewer, world.b.id), "select public.spend_credits(1, 'x')"))).toBe('42501');
  });

  it('users read their own entries, ADMIN and up the tenant’s, nobody another tenant’s', async () => {
    await as(db.gateway, SERVICE, "select public.grant_credits($1, 10, 'seed', 'GRANT', $2)", [world.a.viewer.id, world.a.id]);
    const owners = async (user: typeof world.a.member, tenantId: string) =>
      new Set((await as<{ user_id: string }>(db.gateway, claimsOf(user, tenantId), 'select user_id from public.credit_transactions')).map((r) => r.user_id));
    expect(await owners(world.a.viewer, world.a.id)).toEqual(new Set([world.a.viewer.id]));
    expect((await owners(world.a.admin, world.a.id)).has(world.a.member.id)).toBe(true);
    expect(await owners(world.b.owner, world.a.id)).toEqual(new Set());
    expect((await owners(world.b.owner, world.b.id)).has(world.a.member.id)).toBe(false);
  });

  it('the ledger is append-only, for its owner too', async () => {
    expect(await sqlState(as(db.gateway, claimsOf(world.a.admin, world.a.id), 'update public.credit_transactions set amount = 1'))).toBe('42501');
    expect(await sqlState(as(db.gateway, SERVICE, 'delete from public.credit_transactions'))).toBe('42501');
    expect(await sqlState(db.owner.query('update public.credit_transactions set reason = $1', ['rewritten']))).toBe('42501');
    expect(await sqlState(db.owner.query('delete from public.credit_transactions'))).toBe('42501');
  });
});
