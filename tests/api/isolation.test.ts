import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createTestGateway, tokenFor } from '../support/gateway.ts';
import { addMember, createUser, type WorldUser } from '../support/world.ts';

// Many tenants' requests interleaved on a pool smaller than the number in flight: on a
// server each request's claims live on a reused connection, so a leak would show here.
let db: TestDatabase;
let api: ReturnType<typeof createTestGateway>;
const tenants: { id: string; user: WorldUser; token: string }[] = [];

beforeAll(async () => {
  db = await createTestDatabase({ gatewayPoolSize: 3 });
  api = createTestGateway(db);
  for (let i = 0; i < 8; i++) {
    const { rows } = await db.owner.query<{ id: string }>("insert into public.tenants (name, slug) values ($1, $1) returning id", [`iso-${i}`]);
    const user = await createUser(db.owner, `iso-${i}`);
    await addMember(db.owner, rows[0]!.id, user.id, i % 2 ? 'VIEWER' : 'ADMIN');
    await db.owner.query("insert into public.tenant_settings (tenant_id, key, value) values ($1, 'owner.marker', to_jsonb($2::text))", [rows[0]!.id, rows[0]!.id]);
    tenants.push({ id: rows[0]!.id, user, token: await tokenFor(user, rows[0]!.id) });
  }
});
afterAll(() => db?.close());

describe('concurrent requests of different tenants', () => {
  it('each sees exactly its own tenant’s settings, never another’s', async () => {
    const query = '{ viewer { tenant { id settings { value } } } }';
    const requests = Array.from({ length: 160 }, (_, i) => tenants[(i * 5) % tenants.length]!);
    const responses = await Promise.all(
      requests.map(async (tenant) => ({ tenant, response: await api.graphql<{ viewer: { tenant: { settings: { value: string }[] } } }>(query, { token: tenant.token }) })),
    );
    for (const { tenant, response } of responses) {
      expect(response.body.errors).toBeUndefined();
      expect(response.body.data!.viewer.tenant.settings).toEqual([{ value: tenant.id }]);
    }
  });

  it('a write by one tenant interleaved with reads by others stays in its tenant', async () => {
    const mutation = 'mutation ($v: JSON!) { upsertTenantSetting(key: "owner.marker", value: $v) { __typename } }';
    const writer = tenants[0]!;
    const [write, ...reads] = await Promise.all([
      api.graphql<{ upsertTenantSetting: { __typename: string } }>(mutation, { token: writer.token, variables: { v: 'changed' } }),
      ...tenants.slice(1).map((tenant) => api.graphql<{ viewer: { tenant: { settings: { value: unknown }[] } } }>('{ viewer { tenant { settings { value } } } }', { token: tenant.token })),
    ]);
    expect(write!.body.data!.upsertTenantSetting.__typename).toBe('MutationUpsertTenantSettingSuccess');
    reads.forEach((read, i) => expect((read.body.data as { viewer: { tenant: { settings: { value: unknown }[] } } }).viewer.tenant.settings).toEqual([{ value: tenants[i + 1]!.id }]));
  });
});
