import { createHash, randomBytes } from 'node:crypto';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createTestGateway } from '../support/gateway.ts';
import { as, claimsOf, createWorld, insertRow, SERVICE, sqlState, type World, type WorldUser } from '../support/world.ts';

let db: TestDatabase;
let world: World;
let api: ReturnType<typeof createTestGateway>;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
  api = createTestGateway(db);
});
afterAll(() => db?.close());

/** A key as the Data API would create it: the caller inserts the hash of a secret it made. */
async function keyOf(user: WorldUser, tenantId: string) {
  const secret = `gwk_${randomBytes(32).toString('base64url').slice(0, 43)}`;
  const hash = createHash('sha256').update(secret).digest('hex');
  const [row] = await as<{ id: string }>(
    db.gateway,
    claimsOf(user, tenantId),
    "insert into public.api_keys (tenant_id, user_id, name, prefix, key_hash) values ($1, $2, 'ci', $3, $4) returning id",
    [tenantId, user.id, secret.slice(0, 12), hash],
  );
  return { id: row!.id, secret };
}

const viaKey = (secret: string, query: string) => api.graphql(query, { headers: { 'x-api-key': secret } });

describe('API key revocation is final, and a key cannot mint keys (finding 6)', () => {
  it('a revoked key cannot be brought back, by its owner or by service_role', async () => {
    const key = await keyOf(world.a.member, world.a.id);
    const member = claimsOf(world.a.member, world.a.id);
    await as(db.gateway, member, 'select public.revoke_api_key($1)', [key.id]);
    expect(await sqlState(as(db.gateway, member, 'update public.api_keys set revoked_at = null where id = $1', [key.id]))).toBe('42501');
    expect(await sqlState(as(db.gateway, SERVICE, 'update public.api_keys set revoked_at = null where id = $1', [key.id]))).toBe('42501');
    expect((await viaKey(key.secret, '{ viewer { role } }')).status).toBe(401);
  });

  it('a caller authenticated by an API key cannot create keys, in SQL or in GraphQL', async () => {
    const key = await keyOf(world.a.member, world.a.id);
    const keyClaims = claimsOf(world.a.member, world.a.id, { amr: [{ method: 'api_key' }] });
    const insert = as(
      db.gateway,
      keyClaims,
      "insert into public.api_keys (tenant_id, user_id, name, prefix, key_hash) values ($1, $2, 'spawn', 'gwk_spawn', repeat('b', 64))",
      [world.a.id, world.a.member.id],
    );
    expect(await sqlState(insert)).toBe('42501');
    const created = await viaKey(key.secret, 'mutation { createApiKey(input: { name: "spawn" }) { ... on MutationError { code } } }');
    expect(created.body).toEqual({ data: { createApiKey: { code: 'FORBIDDEN' } } });
  });

  it('an OWNER or ADMIN revokes any key of their tenant; members and other tenants cannot', async () => {
    const first = await keyOf(world.a.member, world.a.id);
    const second = await keyOf(world.a.member, world.a.id);
    const revoke = (user: WorldUser, tenantId: string, id: string) =>
      sqlState(as(db.gateway, claimsOf(user, tenantId), 'select public.revoke_api_key($1)', [id]));
    expect(await revoke(world.a.viewer, world.a.id, first.id)).toBe('P0002');
    expect(await revoke(world.b.owner, world.b.id, first.id)).toBe('P0002');
    expect(await revoke(world.b.owner, world.a.id, first.id)).toBe('P0002');
    expect(await revoke(world.a.admin, world.a.id, first.id)).toBe('ok');
    expect((await viaKey(first.secret, '{ viewer { role } }')).status).toBe(401);

    const listed = await api.as<{ apiKeys: { edges: { node: { id: string; owner: { id: string } } }[] } }>(
      world.a.owner,
      world.a.id,
      '{ apiKeys(allMembers: true) { edges { node { id owner { id } } } } }',
    );
    expect(listed.body.data!.apiKeys.edges.map((edge) => edge.node.id)).toContain(encodeGlobalID('ApiKey', second.id));
    const revoked = await api.as<{ revokeApiKey: { apiKey?: { revokedAt: string | null } } }>(
      world.a.owner,
      world.a.id,
      'mutation ($id: ID!) { revokeApiKey(id: $id) { ... on MutationRevokeApiKeySuccess { apiKey { revokedAt } } } }',
      { id: encodeGlobalID('ApiKey', second.id) },
    );
    expect(revoked.body.data!.revokeApiKey.apiKey!.revokedAt).toEqual(expect.any(String));
    expect((await viaKey(second.secret, '{ viewer { role } }')).status).toBe(401);
    const byMember = await api.as(world.a.member, world.a.id, '{ apiKeys(allMembers: true) { totalCount } }');
    expect(byMember.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('messages: MEMBER and up, and clients write only USER messages (finding 7)', () => {
  async function conversationOf(user: WorldUser, tenantId: string) {
    return db.owner.transaction((tx) => insertRow(tx, 'conversations', { tenant_id: tenantId, user_id: user.id }));
  }
  const send = (user: WorldUser, conversation: string, role: string) =>
    sqlState(
      as(db.gateway, claimsOf(user, world.a.id), "insert into public.messages (tenant_id, conversation_id, role, content) values ($1, $2, $3, 'hi')", [
        world.a.id,
        conversation,
        role,
      ]),
    );

  it('a VIEWER cannot write into their own conversation', async () => {
    expect(await send(world.a.viewer, await conversationOf(world.a.viewer, world.a.id), 'USER')).toBe('42501');
  });

  it('nobody but service_role writes ASSISTANT or SYSTEM messages', async () => {
    const conversation = await conversationOf(world.a.member, world.a.id);
    expect(await send(world.a.member, conversation, 'ASSISTANT')).toBe('42501');
    expect(await send(world.a.member, conversation, 'SYSTEM')).toBe('42501');
    expect(await send(world.a.member, conversation, 'USER')).toBe('ok');
    const [message] = await as<{ id: string }>(db.gateway, claimsOf(world.a.member, world.a.id), 'select id from public.messages where conversation_id = $1', [
      conversation,
    ]);
    const promote = as(db.gateway, claimsOf(world.a.member, world.a.id), "update public.messages set role = 'SYSTEM' where id = $1", [message!.id]);
    expect(await sqlState(promote)).toBe('42501');
  });

  it('through GraphQL: sendMessage takes no role, and a VIEWER is refused', async () => {
    const conversation = encodeGlobalID('Conversation', await conversationOf(world.a.viewer, world.a.id));
    const withRole = await api.as(world.a.viewer, world.a.id, `mutation ($c: ID!) { sendMessage(input: { conversationId: $c, role: SYSTEM, content: "x" }) { __typename } }`, {
      c: conversation,
    });
    expect(withRole.body.errors?.[0]?.message).toMatch(/"role" is not defined/);
    const asViewer = await api.as<{ sendMessage: unknown }>(
      world.a.viewer,
      world.a.id,
      `mutation ($c: ID!) { sendMessage(input: { conversationId: $c, content: "x" }) { ... on MutationError { code } } }`,
      { c: conversation },
    );
    expect(asViewer.body.data!.sendMessage).toEqual({ code: 'FORBIDDEN' });
  });
});

describe('the audit trail keeps private rows to their owners (finding 10)', () => {
  it('ADMIN and OWNER do not learn that another member’s conversation exists; its owner does', async () => {
    const conversation = await db.owner.transaction((tx) =>
      insertRow(tx, 'conversations', { tenant_id: world.a.id, user_id: world.a.member.id, title: 'Job search' }),
    );
    await db.owner.transaction((tx) =>
      insertRow(tx, 'messages', { tenant_id: world.a.id, conversation_id: conversation, role: 'USER', content: 'hello' }),
    );
    const trail = (user: WorldUser) =>
      as<{ table_name: string }>(
        db.gateway,
        claimsOf(user, world.a.id),
        "select table_name from public.audit_logs where table_name in ('conversations', 'messages') and (row_id = $1 or new_values ->> 'conversation_id' = $1::text)",
        [conversation],
      );
    expect(await trail(world.a.admin)).toEqual([]);
    expect(await trail(world.a.owner)).toEqual([]);
    const owners = await trail(world.a.member);
    expect([...new Set(owners.map((row) => row.table_name))].sort()).toEqual(['conversations', 'messages']);
    const viaGraphQL = await api.as<{ auditLogs: { edges: { node: { rowId: string } }[] } }>(
      world.a.admin,
      world.a.id,
      '{ auditLogs(first: 100, filter: { tableName: "conversations" }) { edges { node { rowId } } } }',
    );
    expect(viaGraphQL.body.data!.auditLogs.edges.map((edge) => edge.node.rowId)).not.toContain(conversation);
    const all = await as(db.gateway, SERVICE, "select id from public.audit_logs where row_id = $1 or new_values ->> 'conversation_id' = $1::text", [conversation]);
    expect(all.length).toBe(owners.length);
  });

  it('API keys are an ADMIN’s to manage, so their entries stay readable by ADMIN and up (a documented decision)', async () => {
    const key = await keyOf(world.a.member, world.a.id);
    const seen = await as(db.gateway, claimsOf(world.a.admin, world.a.id), "select action from public.audit_logs where table_name = 'api_keys' and row_id = $1", [
      key.id,
    ]);
    expect(seen).toEqual([{ action: 'INSERT' }]);
    expect(await as(db.gateway, claimsOf(world.a.viewer, world.a.id), 'select id from public.audit_logs where row_id = $1', [key.id])).toEqual([]);
  });
});
