import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUSINESS_SOLUTION_CREDIT_COST } from '../../src/schema/credits.ts';
import { CONTENT_TABLES } from '../support/content-tables.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createTestGateway } from '../support/gateway.ts';
import { creditBalance, grantCredits, poolBalance } from '../support/ledger.ts';
import { ANON, as, claimsOf, createUser, createWorld, SERVICE, sqlState, type World } from '../support/world.ts';

let db: TestDatabase;
let world: World;
let api: ReturnType<typeof createTestGateway>;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
  api = createTestGateway(db);
});
afterAll(() => db?.close());

const ledgerSize = async () => Number((await db.owner.query<{ n: string }>('select count(*)::text as n from public.credit_transactions')).rows[0]!.n);

describe('credits are created by service_role only; admins distribute their tenant’s pool (finding 3)', () => {
  it('an ADMIN or OWNER cannot grant credits, to themselves or anyone', async () => {
    const before = await ledgerSize();
    for (const user of [world.a.admin, world.a.owner]) {
      for (const target of [user, world.a.member]) {
        const mint = as(db.gateway, claimsOf(user, world.a.id), 'select public.grant_credits($1, 1000000, $2)', [target.id, 'mint']);
        expect(await sqlState(mint)).toBe('42501');
      }
    }
    expect(await ledgerSize()).toBe(before);
  });

  it('a tenant founder cannot mint credits through GraphQL either', async () => {
    const founder = await createUser(db.owner, 'founder');
    const created = await api.as<{ createTenant: { tenant: { id: string } } }>(
      founder,
      undefined,
      'mutation { createTenant(input: { name: "Mint", slug: "mint-co" }) { ... on MutationCreateTenantSuccess { tenant { id } } } }',
    );
    const tenantGid = created.body.data!.createTenant.tenant.id;
    const tenantId = decodeGlobalID(tenantGid).id;
    const userGid = encodeGlobalID('User', founder.id);
    const grant = await api.as<{ grantCredits: { code?: string } }>(
      founder,
      tenantId,
      `mutation ($tenant: ID!, $user: ID!) { grantCredits(input: { tenantId: $tenant, userId: $user, amount: 1000000, reason: "mint" }) {
        ... on MutationError { code } ... on MutationGrantCreditsSuccess { transaction { amount } } } }`,
      { tenant: tenantGid, user: userGid },
    );
    expect(grant.body.data!.grantCredits).toEqual({ code: 'FORBIDDEN' });
    const allocate = await api.as<{ allocateCredits: { code?: string } }>(
      founder,
      tenantId,
      'mutation ($user: ID!) { allocateCredits(input: { userId: $user, amount: 10, reason: "self" }) { ... on MutationError { code } } }',
      { user: userGid },
    );
    expect(allocate.body.data!.allocateCredits).toEqual({ code: 'INSUFFICIENT_CREDITS' });
    expect(await creditBalance(db.owner, tenantId, founder.id)).toBe(0);
  });

  it('service_role fills the pool; an ADMIN allocates from it and never beyond it', async () => {
    await as(db.gateway, SERVICE, "select public.grant_credits(null, 500, 'plan purchase', 'PURCHASE', $1)", [world.b.id]);
    expect(await poolBalance(db.owner, world.b.id)).toBe(500);
    const admin = claimsOf(world.b.admin, world.b.id);
    const [entry] = await as<{ amount: number; kind: string; balance_after: string }>(
      db.gateway,
      admin,
      "select amount, kind, balance_after::text from public.allocate_credits($1, 200, 'Q4 budget')",
      [world.b.member.id],
    );
    expect(entry).toEqual({ amount: 200, kind: 'ALLOCATION', balance_after: '200' });
    expect(await poolBalance(db.owner, world.b.id)).toBe(300);
    expect(await sqlState(as(db.gateway, admin, "select public.allocate_credits($1, 301, 'too much')", [world.b.member.id]))).toBe('GW001');
    expect(await sqlState(as(db.gateway, admin, "select public.allocate_credits($1, 1, 'outsider')", [world.outsider.id]))).toBe('22023');
    const member = claimsOf(world.b.member, world.b.id);
    expect(await sqlState(as(db.gateway, member, "select public.allocate_credits($1, 1, 'self')", [world.b.member.id]))).toBe('42501');
    expect(await as(db.gateway, admin, 'select public.tenant_credit_pool()::text as pool')).toEqual([{ pool: '300' }]);
    expect(await sqlState(as(db.gateway, member, 'select public.tenant_credit_pool()'))).toBe('42501');
    expect(await poolBalance(db.owner, world.b.id)).toBe(300);
  });
});

describe('paid rows are charged in the database, whatever the path (finding 4)', () => {
  const member = () => claimsOf(world.a.member, world.a.id);

  it('a member cannot insert an analysis or a generation for free, or choose its status or result', async () => {
    await grantCredits(db.owner, world.a.id, world.a.member.id, 100);
    const attempts = [
      ["insert into public.analyses (tenant_id, user_id, type, input, credits_cost) values ($1, $2, 'DATA_ANALYSIS', 'free', 0)", 'credits_cost'],
      ["insert into public.analyses (tenant_id, user_id, type, input, status) values ($1, $2, 'TEXT_ANALYSIS', 'done', 'COMPLETED')", 'status'],
      ["insert into public.analyses (tenant_id, user_id, type, input, result) values ($1, $2, 'TEXT_ANALYSIS', 'x', '{}')", 'result'],
      ["insert into public.content_generations (tenant_id, user_id, type, prompt, credits_cost) values ($1, $2, 'IMAGE', 'free', 0)", 'credits_cost'],
    ];
    for (const [sql] of attempts) {
      expect(await sqlState(as(db.gateway, member(), sql!, [world.a.id, world.a.member.id]))).toBe('42501');
    }
    expect(await creditBalance(db.owner, world.a.id, world.a.member.id)).toBe(100);
  });

  it('a plain insert through the Data API is charged at the type’s price, and refused when the balance is short', async () => {
    const before = await creditBalance(db.owner, world.a.id, world.a.member.id);
    const [row] = await as<{ id: string; credits_cost: number; status: string }>(
      db.gateway,
      member(),
      "insert into public.analyses (tenant_id, user_id, type, input) values ($1, $2, 'SEO_ANALYSIS', 'charged') returning id, credits_cost, status",
      [world.a.id, world.a.member.id],
    );
    expect(row).toMatchObject({ credits_cost: 15, status: 'PENDING' });
    expect(await creditBalance(db.owner, world.a.id, world.a.member.id)).toBe(before - 15);
    const { rows } = await db.owner.query('select amount, kind, reason, metadata from public.credit_transactions where metadata ->> $1 = $2', [
      'analysisId',
      row!.id,
    ]);
    expect(rows).toEqual([{ amount: -15, kind: 'SPEND', reason: 'analysis:SEO_ANALYSIS', metadata: { analysisId: row!.id, type: 'SEO_ANALYSIS' } }]);

    const broke = await createUser(db.owner, 'broke');
    await db.owner.query("insert into public.tenant_users (tenant_id, user_id, role) values ($1, $2, 'MEMBER')", [world.a.id, broke.id]);
    const refused = as(db.gateway, claimsOf(broke, world.a.id), "insert into public.analyses (tenant_id, user_id, type, input) values ($1, $2, 'TEXT_ANALYSIS', 'x')", [
      world.a.id,
      broke.id,
    ]);
    expect(await sqlState(refused)).toBe('GW001');
    expect((await db.owner.query('select id from public.analyses where user_id = $1', [broke.id])).rows).toEqual([]);
  });

  it('nobody but service_role rewrites the price, the status or the results of a paid row', async () => {
    await grantCredits(db.owner, world.a.id, world.a.member.id, 100);
    const [row] = await as<{ id: string }>(
      db.gateway,
      member(),
      "insert into public.analyses (tenant_id, user_id, type, input) values ($1, $2, 'TEXT_ANALYSIS', 'mine') returning id",
      [world.a.id, world.a.member.id],
    );
    for (const user of [world.a.member, world.a.admin, world.a.owner]) {
      for (const set of ['credits_cost = 0', "status = 'PROCESSING'", "result = '{}'", 'confidence = 1', "embedding = null"]) {
        const update = as(db.gateway, claimsOf(user, world.a.id), `update public.analyses set ${set} where id = $1`, [row!.id]);
        expect(await sqlState(update)).toBe('42501');
      }
    }
    expect(await sqlState(as(db.gateway, SERVICE, "update public.analyses set status = 'PROCESSING' where id = $1", [row!.id]))).toBe('ok');
  });

  it.each(CONTENT_TABLES.filter((table) => table.paid))('$table: a request is charged its price, or refused whole', async ({ table, minimalRow }) => {
    const user = await createUser(db.owner, `payer-${table}`);
    await db.owner.query("insert into public.tenant_users (tenant_id, user_id, role) values ($1, $2, 'MEMBER')", [world.a.id, user.id]);
    const values = { tenant_id: world.a.id, user_id: user.id, ...minimalRow(1) };
    const columns = Object.keys(values);
    const insert = () =>
      as<{ credits_cost: number }>(
        db.gateway,
        claimsOf(user, world.a.id),
        `insert into public.${table} (${columns.join(', ')}) values (${columns.map((_, i) => `$${i + 1}`).join(', ')}) returning credits_cost`,
        Object.values(values),
      );
    expect(await sqlState(insert())).toBe('GW001');
    await grantCredits(db.owner, world.a.id, user.id, 1000);
    const [row] = await insert();
    expect(row!.credits_cost).toBeGreaterThan(0);
    expect(await creditBalance(db.owner, world.a.id, user.id)).toBe(1000 - row!.credits_cost);
  });

  it('business-solution requests through GraphQL spend credits like other AI work', async () => {
    const user = await createUser(db.owner, 'contract-payer');
    await db.owner.query("insert into public.tenant_users (tenant_id, user_id, role) values ($1, $2, 'MEMBER')", [world.a.id, user.id]);
    const request = `mutation { requestContractAnalysis(input: { contractTitle: "NDA", contractType: NDA }) {
      ... on MutationRequestContractAnalysisSuccess { contractAnalysis { creditsCost } } ... on MutationError { code } } }`;
    expect((await api.as<{ requestContractAnalysis: unknown }>(user, world.a.id, request)).body.data!.requestContractAnalysis).toEqual({
      code: 'INSUFFICIENT_CREDITS',
    });
    await grantCredits(db.owner, world.a.id, user.id, 100);
    const paid = await api.as<{ requestContractAnalysis: unknown }>(user, world.a.id, request);
    const cost = BUSINESS_SOLUTION_CREDIT_COST.contract_analyses;
    expect(paid.body.data!.requestContractAnalysis).toEqual({ contractAnalysis: { creditsCost: cost } });
    expect(await creditBalance(db.owner, world.a.id, user.id)).toBe(100 - cost);
  });

  it('the prices the schema documents are the prices the database charges', async () => {
    const { rows } = await db.owner.query<{ request: string; type: string; credits: number }>(
      'select request, type, credits from private.request_prices order by request, type',
    );
    const { ANALYSIS_CREDIT_COST, GENERATION_CREDIT_COST } = await import('../../src/schema/credits.ts');
    const expected = [
      ...Object.entries(ANALYSIS_CREDIT_COST).map(([type, credits]) => ({ request: 'analyses', type, credits })),
      ...Object.entries(GENERATION_CREDIT_COST).map(([type, credits]) => ({ request: 'content_generations', type, credits })),
      ...Object.entries(BUSINESS_SOLUTION_CREDIT_COST).map(([table, credits]) => ({ request: table, type: '', credits })),
    ];
    const order = (list: { request: string; type: string }[]) =>
      [...list].sort((x, y) => x.request.localeCompare(y.request) || x.type.localeCompare(y.type));
    expect(order(rows)).toEqual(order(expected));
  });
});

describe('sequences are not the clients’ to move (finding 5)', () => {
  it('anon and authenticated hold no privilege on any sequence, present or future', async () => {
    await db.owner.query('create sequence public.probe_sequence');
    const { rows } = await db.owner.query<{ role: string; sequence: string; privilege: string }>(`
      select r.role, c.oid::regclass::text as sequence, p.privilege
      from pg_class c
      join pg_namespace n on n.oid = c.relnamespace
      cross join (values ('anon'), ('authenticated')) as r (role)
      cross join (values ('USAGE'), ('SELECT'), ('UPDATE')) as p (privilege)
      where c.relkind = 'S' and n.nspname in ('public', 'private', 'auth')
        and has_sequence_privilege(r.role, c.oid, p.privilege)`);
    await db.owner.query('drop sequence public.probe_sequence');
    expect(rows).toEqual([]);
  });

  it('setval on the ledger or audit sequence is refused, and spends stay in the balance', async () => {
    await grantCredits(db.owner, world.b.id, world.b.member.id, 50);
    const before = await creditBalance(db.owner, world.b.id, world.b.member.id);
    const sequences = await db.owner.query<{ name: string }>(
      "select pg_get_serial_sequence(t, 'seq') as name from unnest(array['public.credit_transactions', 'public.audit_logs']) as t",
    );
    for (const claims of [claimsOf(world.b.member, world.b.id), ANON]) {
      for (const { name } of sequences.rows) {
        expect(await sqlState(as(db.gateway, claims, 'select setval($1, 1)', [name]))).toBe('42501');
      }
    }
    await as(db.gateway, claimsOf(world.b.member, world.b.id), "select public.spend_credits(20, 'spent')");
    expect(await creditBalance(db.owner, world.b.id, world.b.member.id)).toBe(before - 20);
  });
});
