import { createHash } from 'node:crypto';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createTestGateway } from '../support/gateway.ts';
import { createWorld, type World, type WorldUser } from '../support/world.ts';

let db: TestDatabase;
let world: World;
let api: ReturnType<typeof createTestGateway>;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
  api = createTestGateway(db);
});
afterAll(() => db?.close());

interface Created {
  createApiKey: {
    __typename: string;
    created?: { secret: string; apiKey: { id: string; name: string; prefix: string; expiresAt: string | null } };
    code?: string;
    message?: string;
  };
}

const CREATE = `mutation ($input: CreateApiKeyInput!) {
  createApiKey(input: $input) {
    __typename
    ... on MutationCreateApiKeySuccess { created { secret apiKey { id name prefix expiresAt } } }
    ... on MutationError { code message }
  }
}`;
const REVOKE = `mutation ($id: ID!) {
  revokeApiKey(id: $id) {
    ... on MutationRevokeApiKeySuccess { apiKey { id revokedAt } }
    ... on MutationError { code }
  }
}`;
const LIST = `query ($all: Boolean!) { apiKeys(includeRevoked: $all) { totalCount edges { node { id name prefix lastUsedAt revokedAt } } } }`;
const WHO = '{ viewer { user { id } tenant { id } } }';

type Who = { viewer: { user: { id: string }; tenant: { id: string } | null } | null };
type Listed = { apiKeys: { totalCount: number; edges: { node: { id: string; name: string; lastUsedAt: string | null; revokedAt: string | null } }[] } };

async function createKey(user: WorldUser, tenantId: string, name = 'ci') {
  const response = await api.as<Created>(user, tenantId, CREATE, { input: { name } });
  const created = response.body.data!.createApiKey.created;
  if (!created) throw new Error(`createApiKey failed: ${JSON.stringify(response.body)}`);
  return { ...created, rawId: Buffer.from(created.apiKey.id, 'base64').toString().split(':')[1]! };
}

const withKey = <Data>(query: string, headers: Record<string, string>, variables?: Record<string, unknown>) =>
  api.graphql<Data>(query, { headers, variables });

describe('createApiKey', () => {
  it('returns the secret once and stores only its sha256', async () => {
    const { secret, apiKey, rawId } = await createKey(world.a.member, world.a.id, '  deploy bot  ');
    expect(secret).toMatch(/^gwk_[A-Za-z0-9_-]{43}$/);
    expect(apiKey).toMatchObject({ name: 'deploy bot', prefix: secret.slice(0, 10), expiresAt: null });
    const { rows } = await db.owner.query<Record<string, unknown>>('select * from public.api_keys where id = $1', [rawId]);
    expect(rows[0]!.key_hash).toBe(createHash('sha256').update(secret).digest('hex'));
    expect(JSON.stringify(rows)).not.toContain(secret);
    const audit = await db.owner.query('select new_values from public.audit_logs where row_id = $1', [rawId]);
    expect(audit.rows).toHaveLength(1);
    expect(JSON.stringify(audit.rows)).not.toContain(rows[0]!.key_hash as string);

    const listed = await api.as<Listed>(world.a.member, world.a.id, LIST, { all: true });
    expect(listed.body.data!.apiKeys.edges.map((e) => e.node.id)).toContain(apiKey.id);
    expect(JSON.stringify(listed.body)).not.toContain(secret);
    const asked = await api.as(world.a.member, world.a.id, '{ apiKeys { edges { node { secret } } } }');
    expect(asked.body.errors?.[0]?.message).toMatch(/Cannot query field "secret"/);
  });

  it('refuses VIEWER, anonymous callers, bad names and past expiry, writing nothing', async () => {
    const before = await db.owner.query<{ n: number }>('select count(*)::int as n from public.api_keys');
    const viewer = await api.as<Created>(world.a.viewer, world.a.id, CREATE, { input: { name: 'no' } });
    expect(viewer.body.data!.createApiKey).toMatchObject({ code: 'FORBIDDEN' });
    const anon = await api.graphql<Created>(CREATE, { variables: { input: { name: 'no' } } });
    expect(anon.body.data!.createApiKey).toMatchObject({ code: 'UNAUTHENTICATED' });
    for (const input of [{ name: ' ' }, { name: 'x'.repeat(101) }, { name: 'old', expiresAt: '2020-01-01T00:00:00Z' }]) {
      const bad = await api.as<Created>(world.a.member, world.a.id, CREATE, { input });
      expect(bad.body.data!.createApiKey).toMatchObject({ code: 'VALIDATION_FAILED' });
    }
    const after = await db.owner.query<{ n: number }>('select count(*)::int as n from public.api_keys');
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
    const anonList = await api.graphql('{ apiKeys { totalCount } }');
    expect(anonList.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('accepts an expiry in the future', async () => {
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const response = await api.as<Created>(world.b.admin, world.b.id, CREATE, { input: { name: 'temp', expiresAt } });
    expect(response.body.data!.createApiKey.created?.apiKey.expiresAt).toBe(expiresAt);
  });
});

describe('calling with an API key', () => {
  it('runs as the key’s user in the key’s tenant, by Bearer or x-api-key, and records the use', async () => {
    const { secret, rawId } = await createKey(world.b.member, world.b.id);
    const expected = { viewer: { user: { id: encodeGlobalID('User', world.b.member.id) }, tenant: { id: encodeGlobalID('Tenant', world.b.id) } } };
    const unused = await db.owner.query('select last_used_at from public.api_keys where id = $1', [rawId]);
    expect(unused.rows).toEqual([{ last_used_at: null }]);

    const bearer = await withKey<Who>(WHO, { authorization: `Bearer ${secret}` });
    expect(bearer).toMatchObject({ status: 200, body: { data: expected } });
    const header = await withKey<Who>(WHO, { 'x-api-key': secret });
    expect(header).toMatchObject({ status: 200, body: { data: expected } });
    const used = await db.owner.query<{ last_used_at: Date | null }>('select last_used_at from public.api_keys where id = $1', [rawId]);
    expect(used.rows[0]!.last_used_at).toBeInstanceOf(Date);

    const sameTenant = await withKey<Who>(WHO, { 'x-api-key': secret, 'x-tenant-id': world.b.id });
    expect(sameTenant.body.data).toEqual(expected);
    const otherTenant = await withKey(WHO, { 'x-api-key': secret, 'x-tenant-id': world.a.id });
    expect(otherTenant.status).toBe(403);
    expect(otherTenant.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('refuses unknown, altered, expired and revoked keys with 401', async () => {
    const { secret, apiKey, rawId } = await createKey(world.a.admin, world.a.id);
    const expectRefused = async (headers: Record<string, string>) => {
      const response = await withKey(WHO, headers);
      expect(response.status).toBe(401);
      expect(response.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    };
    await expectRefused({ 'x-api-key': `gwk_${'A'.repeat(43)}` });
    await expectRefused({ authorization: `Bearer ${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}` });
    await expectRefused({ 'x-api-key': 'gwk_' });

    await db.owner.query("update public.api_keys set expires_at = now() - interval '1 second' where id = $1", [rawId]);
    await expectRefused({ 'x-api-key': secret });
    await db.owner.query('update public.api_keys set expires_at = null where id = $1', [rawId]);
    expect((await withKey(WHO, { 'x-api-key': secret })).status).toBe(200);

    const revoked = await api.as<{ revokeApiKey: { apiKey: { revokedAt: string } } }>(world.a.admin, world.a.id, REVOKE, { id: apiKey.id });
    const revokedAt = revoked.body.data!.revokeApiKey.apiKey.revokedAt;
    expect(revokedAt).toEqual(expect.any(String));
    await expectRefused({ authorization: `Bearer ${secret}` });
    await expectRefused({ 'x-api-key': secret });

    // Revoking twice is harmless and keeps the first time.
    const again = await api.as<{ revokeApiKey: { apiKey: { revokedAt: string } } }>(world.a.admin, world.a.id, REVOKE, { id: apiKey.id });
    expect(again.body.data!.revokeApiKey.apiKey.revokedAt).toBe(revokedAt);
    const active = await api.as<Listed>(world.a.admin, world.a.id, LIST, { all: false });
    expect(active.body.data!.apiKeys.edges.map((e) => e.node.id)).not.toContain(apiKey.id);
    const all = await api.as<Listed>(world.a.admin, world.a.id, LIST, { all: true });
    expect(all.body.data!.apiKeys.edges.find((e) => e.node.id === apiKey.id)?.node.revokedAt).toBe(revokedAt);
  });
});

describe('keys are private to their user', () => {
  it('other members and other tenants can neither see nor revoke my key; OWNER and ADMIN can (key management is theirs)', async () => {
    const { secret, apiKey } = await createKey(world.a.member, world.a.id, 'mine');
    for (const [user, tenantId] of [[world.a.viewer, world.a.id], [world.b.owner, world.b.id], [world.b.owner, world.a.id]] as const) {
      const listed = await api.as<Listed>(user, tenantId, LIST, { all: true });
      expect(listed.body.data!.apiKeys.edges.map((e) => e.node.id)).not.toContain(apiKey.id);
      const node = await api.as(user, tenantId, 'query ($id: ID!) { node(id: $id) { id } }', { id: apiKey.id });
      expect(node.body).toEqual({ data: { node: null } });
      const revoke = await api.as(user, tenantId, REVOKE, { id: apiKey.id });
      expect(revoke.body.data).toEqual({ revokeApiKey: { code: 'NOT_FOUND' } });
    }
    // Without allMembers, an ADMIN's list is their own keys only.
    const adminsOwn = await api.as<Listed>(world.a.admin, world.a.id, LIST, { all: true });
    expect(adminsOwn.body.data!.apiKeys.edges.map((e) => e.node.id)).not.toContain(apiKey.id);
    const node = await api.as(world.a.admin, world.a.id, 'query ($id: ID!) { node(id: $id) { ... on ApiKey { name owner { id } } } }', { id: apiKey.id });
    expect(node.body).toEqual({ data: { node: { name: 'mine', owner: { id: encodeGlobalID('User', world.a.member.id) } } } });
    expect((await withKey(WHO, { 'x-api-key': secret })).status).toBe(200);
    const mine = await api.as(world.a.member, world.a.id, 'query ($id: ID!) { node(id: $id) { ... on ApiKey { name } } }', { id: apiKey.id });
    expect(mine.body).toEqual({ data: { node: { name: 'mine' } } });
  });

  it('lists only the keys of the active tenant', async () => {
    const user = world.outsider;
    await db.owner.query("insert into public.tenant_users (tenant_id, user_id, role) values ($1, $3, 'MEMBER'), ($2, $3, 'MEMBER')", [
      world.a.id,
      world.b.id,
      user.id,
    ]);
    const inA = await createKey(user, world.a.id, 'in a');
    const inB = await createKey(user, world.b.id, 'in b');
    const listA = await api.as<Listed>(user, world.a.id, LIST, { all: true });
    expect(listA.body.data!.apiKeys).toMatchObject({ totalCount: 1, edges: [{ node: { id: inA.apiKey.id } }] });
    const revokeFromA = await api.as(user, world.a.id, REVOKE, { id: inB.apiKey.id });
    expect(revokeFromA.body.data).toEqual({ revokeApiKey: { code: 'NOT_FOUND' } });
  });
});

describe('the gateway and key_hash', () => {
  it('over this whole file, wrote the hash but never asked for it back: authenticated may not read it', () => {
    const touching = db.statements.filter((sql) => sql.includes('key_hash'));
    expect(touching.length).toBeGreaterThan(0);
    expect(touching.every((sql) => /^INSERT INTO "public"."api_keys" \([^)]*\) VALUES \([^)]*\) RETURNING "public"."api_keys"."id"$/.test(sql))).toBe(true);
  });
});
