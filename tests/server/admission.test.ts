import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdmission, DEFAULT_RATE_LIMITS, PLAN_REQUESTS_PER_MINUTE, type RateLimits } from '../../src/limits/admission.ts';
import { monthOf, RequestCounter } from '../../src/limits/request-counter.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createTestGateway, tokenFor } from '../support/gateway.ts';
import { as, claimsOf, createUser, createWorld, SERVICE, sqlState, type World, type WorldUser } from '../support/world.ts';

let db: TestDatabase;
let world: World;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
});
afterAll(() => db?.close());

/** A gateway with admission on its own counter, so each case starts from zero. */
function gatewayWith(limits: Partial<RateLimits> = {}) {
  const counter = new RequestCounter(db.gateway);
  const admission = createAdmission(db.gateway, counter, { ...DEFAULT_RATE_LIMITS, cacheMs: 0, ...limits }, silentLogger);
  return { api: createTestGateway(db, { admission }), counter };
}

const VIEWER = '{ viewer { role } }';
const call = async (api: ReturnType<typeof createTestGateway>, user: WorldUser | null, tenantId?: string, extra: { address?: string; headers?: Record<string, string> } = {}) => {
  const response = await api.graphql(VIEWER, { token: user ? await tokenFor(user, tenantId) : undefined, ...extra });
  return { status: response.status, code: response.body.errors?.[0]?.extensions?.code ?? 'ok', retryAfter: response.headers.get('retry-after') };
};

async function newTenant(label: string, values: Record<string, unknown> = {}) {
  const owner = await createUser(db.owner, `${label}-owner`);
  const columns = ['name', 'slug', ...Object.keys(values)];
  const { rows } = await db.owner.query<{ id: string }>(
    `insert into public.tenants (${columns.join(', ')}) values (${columns.map((_, i) => `$${i + 1}`).join(', ')}) returning id`,
    [label, `${label}-${Math.random().toString(36).slice(2, 8)}`, ...Object.values(values)],
  );
  await db.owner.query("insert into public.tenant_users (tenant_id, user_id, role) values ($1, $2, 'OWNER')", [rows[0]!.id, owner.id]);
  return { id: rows[0]!.id, owner };
}

describe('rate limits', () => {
  it('a tenant over its requests per minute gets 429 RATE_LIMITED with Retry-After; another tenant is served', async () => {
    const limited = await newTenant('limited');
    await db.owner.query("insert into public.tenant_settings (tenant_id, key, value) values ($1, 'limits.requests_per_minute', '3')", [limited.id]);
    const { api } = gatewayWith();
    for (let i = 0; i < 3; i += 1) expect((await call(api, limited.owner, limited.id)).code).toBe('ok');
    const refused = await call(api, limited.owner, limited.id);
    expect(refused).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60);
    expect(await call(api, world.b.owner, world.b.id)).toMatchObject({ status: 200, code: 'ok' });
  });

  it('a caller over the per-caller limit is refused; others of the same tenant are not', async () => {
    const { api } = gatewayWith({ callerPerMinute: 2 });
    expect((await call(api, world.a.member, world.a.id)).code).toBe('ok');
    expect((await call(api, world.a.member, world.a.id)).code).toBe('ok');
    expect(await call(api, world.a.member, world.a.id)).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    expect((await call(api, world.a.admin, world.a.id)).code).toBe('ok');
  });

  it('anonymous callers are limited per address', async () => {
    const { api } = gatewayWith({ anonymousPerMinute: 2 });
    expect((await call(api, null, undefined, { address: '198.51.100.7' })).code).toBe('ok');
    expect((await call(api, null, undefined, { address: '198.51.100.7' })).code).toBe('ok');
    expect(await call(api, null, undefined, { address: '198.51.100.7' })).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    expect((await call(api, null, undefined, { address: '198.51.100.8' })).code).toBe('ok');
  });

  it('naming a tenant one does not belong to spends nothing of that tenant’s budget', async () => {
    const victim = await newTenant('victim');
    await db.owner.query("insert into public.tenant_settings (tenant_id, key, value) values ($1, 'limits.requests_per_minute', '2')", [victim.id]);
    const { api } = gatewayWith();
    for (let i = 0; i < 5; i += 1) await call(api, world.b.member, undefined, { headers: { 'x-tenant-id': victim.id } });
    expect((await call(api, victim.owner, victim.id)).code).toBe('ok');
    expect((await call(api, victim.owner, victim.id)).code).toBe('ok');
    expect((await call(api, victim.owner, victim.id)).code).toBe('RATE_LIMITED');
  });

  it('a tenant’s OWNER cannot raise the tenant’s own limits; service_role can', async () => {
    const claims = claimsOf(world.a.owner, world.a.id);
    const set = (key: string) =>
      sqlState(as(db.gateway, claims, "insert into public.tenant_settings (tenant_id, key, value) values ($1, $2, '1000000')", [world.a.id, key]));
    expect(await set('limits.requests_per_minute')).toBe('42501');
    expect(await set('ui.theme')).toBe('ok');
    const upsert = await createTestGateway(db).graphql(
      'mutation { upsertTenantSetting(key: "limits.requests_per_minute", value: 1000000) { ... on MutationError { code } } }',
      { token: await tokenFor(world.a.owner, world.a.id) },
    );
    expect(upsert.body.data).toEqual({ upsertTenantSetting: { code: 'FORBIDDEN' } });
    expect(await sqlState(as(db.gateway, SERVICE, "insert into public.tenant_settings (tenant_id, key, value) values ($1, 'limits.requests_per_minute', '10')", [world.a.id]))).toBe('ok');
  });

  it('plans have documented defaults', () => {
    expect(PLAN_REQUESTS_PER_MINUTE).toEqual({ FREE: 60, BASIC: 300, PRO: 1200, ENTERPRISE: 6000 });
  });
});

describe('the monthly API-call quota', () => {
  it('is metered into subscription_usage without a write per request, and refused with QUOTA_EXCEEDED once spent', async () => {
    const tenant = await newTenant('metered', { max_api_calls_per_month: 3 });
    const { api, counter } = gatewayWith();
    db.statements.length = 0;
    for (let i = 0; i < 3; i += 1) expect((await call(api, tenant.owner, tenant.id)).code).toBe('ok');
    const usage = () =>
      db.owner.query<{ value: string }>("select value::text from public.subscription_usage where tenant_id = $1 and metric = 'api_calls' and period = $2", [
        tenant.id,
        monthOf(Date.now()),
      ]);
    expect((await usage()).rows).toEqual([]);
    const refused = await call(api, tenant.owner, tenant.id);
    expect(refused).toMatchObject({ status: 429, code: 'QUOTA_EXCEEDED' });
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    await counter.flush();
    expect((await usage()).rows).toEqual([{ value: '3' }]);
    // Another process starts from the totals in the database.
    const second = gatewayWith();
    await second.counter.flush();
    expect((await call(second.api, tenant.owner, tenant.id)).code).toBe('ok');
    await second.counter.flush();
    expect((await call(second.api, tenant.owner, tenant.id)).code).toBe('QUOTA_EXCEEDED');
    expect((await usage()).rows).toEqual([{ value: '4' }]);
  });
});

describe('suspended tenants and inactive users', () => {
  it('a SUSPENDED or ARCHIVED tenant’s members get TENANT_SUSPENDED; the database shows and takes nothing of theirs', async () => {
    const tenant = await newTenant('suspended');
    const project = await db.owner.query<{ id: string }>("insert into public.projects (tenant_id, user_id, name) values ($1, $2, 'kept') returning id", [
      tenant.id,
      tenant.owner.id,
    ]);
    const { api } = gatewayWith();
    for (const status of ['SUSPENDED', 'ARCHIVED']) {
      await db.owner.query('update public.tenants set status = $2 where id = $1', [tenant.id, status]);
      expect(await call(api, tenant.owner, tenant.id)).toMatchObject({ status: 403, code: 'TENANT_SUSPENDED' });
      const claims = claimsOf(tenant.owner, tenant.id);
      expect(await as(db.gateway, claims, 'select id from public.projects where id = $1', [project.rows[0]!.id])).toEqual([]);
      expect(await sqlState(as(db.gateway, claims, "insert into public.projects (tenant_id, user_id, name) values ($1, $2, 'x')", [tenant.id, tenant.owner.id]))).toBe('42501');
      expect(
        await sqlState(as(db.gateway, claims, "insert into public.analyses (tenant_id, user_id, type, input) values ($1, $2, 'TEXT_ANALYSIS', 'x')", [tenant.id, tenant.owner.id])),
      ).toBe('GW006');
    }
    await db.owner.query("update public.tenants set status = 'ACTIVE' where id = $1", [tenant.id]);
    expect(await as(db.gateway, claimsOf(tenant.owner, tenant.id), 'select id from public.projects where id = $1', [project.rows[0]!.id])).toHaveLength(1);
  });

  it('an inactive user gets FORBIDDEN, and reaches no tenant in the database', async () => {
    const user = await createUser(db.owner, 'inactive');
    await db.owner.query("insert into public.tenant_users (tenant_id, user_id, role) values ($1, $2, 'MEMBER')", [world.b.id, user.id]);
    const { api } = gatewayWith();
    expect((await call(api, user, world.b.id)).code).toBe('ok');
    await db.owner.query('update public.users set is_active = false where id = $1', [user.id]);
    expect(await call(api, user, world.b.id)).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(await as(db.gateway, claimsOf(user, world.b.id), 'select id from public.tenant_settings union all select id from public.tenants')).toEqual([]);
    expect(await as(db.gateway, claimsOf(user, world.b.id), 'select private.active_tenant_id() as tenant')).toEqual([{ tenant: null }]);
  });
});

describe('the storage quota', () => {
  it('is enforced when uploads are registered, in the database', async () => {
    const tenant = await newTenant('storage', { max_storage_bytes: 1000 });
    const claims = claimsOf(tenant.owner, tenant.id);
    const register = (size: number) =>
      sqlState(
        as(db.gateway, claims, "insert into public.uploads (tenant_id, user_id, filename, original_name, path, size_bytes, mime_type) values ($1, $2, 'f', 'f', 'p', $3, 'text/plain')", [
          tenant.id,
          tenant.owner.id,
          size,
        ]),
      );
    expect(await register(600)).toBe('ok');
    expect(await register(401)).toBe('GW005');
    expect(await register(400)).toBe('ok');
    const { api } = gatewayWith();
    const viaGraphQL = await api.graphql(
      'mutation { registerUpload(input: { filename: "g", originalName: "g", path: "p", sizeBytes: 1, mimeType: "text/plain" }) { ... on MutationError { code message } } }',
      { token: await tokenFor(tenant.owner, tenant.id) },
    );
    expect(viaGraphQL.body.data).toEqual({ registerUpload: { code: 'QUOTA_EXCEEDED', message: expect.stringContaining('storage quota of 1000 bytes') } });
    // Deleting frees the space.
    await db.owner.query("update public.uploads set status = 'DELETED' where tenant_id = $1 and size_bytes = 600", [tenant.id]);
    expect(await register(500)).toBe('ok');
  });
});
