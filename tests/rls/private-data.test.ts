import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { ANON, as, claimsOf, createWorld, insertRow, sqlState, type World } from '../support/world.ts';

let db: TestDatabase;
let world: World;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
});
afterAll(() => db?.close());

describe('conversations and messages', () => {
  async function conversationOf(user: typeof world.a.member, tenantId: string) {
    return db.owner.transaction(async (tx) => {
      const conversation = await insertRow(tx, 'conversations', { tenant_id: tenantId, user_id: user.id, title: 'Private' });
      const message = await insertRow(tx, 'messages', {
        tenant_id: tenantId,
        conversation_id: conversation,
        role: 'USER',
        content: 'secret',
      });
      return { conversation, message };
    });
  }

  it('are private to their user, tenant OWNER and ADMIN included', async () => {
    const { conversation, message } = await conversationOf(world.a.member, world.a.id);
    const read = (user: typeof world.a.member, tenantId: string) =>
      Promise.all([
        as(db.gateway, claimsOf(user, tenantId), 'select id from public.conversations where id = $1', [conversation]),
        as(db.gateway, claimsOf(user, tenantId), 'select id from public.messages where id = $1', [message]),
      ]);
    expect(await read(world.a.member, world.a.id)).toEqual([[{ id: conversation }], [{ id: message }]]);
    for (const [user, tenantId] of [
      [world.a.owner, world.a.id],
      [world.a.admin, world.a.id],
      [world.a.viewer, world.a.id],
      [world.b.owner, world.b.id],
      [world.b.owner, world.a.id],
    ] as const) {
      expect(await read(user, tenantId)).toEqual([[], []]);
    }
    expect(await as(db.gateway, ANON, 'select id from public.messages')).toEqual([]);
  });

  it('nobody writes into someone else’s conversation', async () => {
    const { conversation } = await conversationOf(world.a.member, world.a.id);
    const post = (user: typeof world.a.member, tenantId: string) =>
      sqlState(
        as(db.gateway, claimsOf(user, tenantId), "insert into public.messages (tenant_id, conversation_id, role, content) values ($1, $2, 'USER', 'hi')", [
          world.a.id,
          conversation,
        ]),
      );
    expect(await post(world.a.member, world.a.id)).toBe('ok');
    expect(await post(world.a.owner, world.a.id)).toBe('42501');
    expect(await post(world.b.member, world.a.id)).toBe('42501');
    const hijack = await as(db.gateway, claimsOf(world.a.admin, world.a.id), "update public.conversations set title = 'x' where id = $1 returning id", [
      conversation,
    ]);
    expect(hijack).toEqual([]);
    const erase = await as(db.gateway, claimsOf(world.a.owner, world.a.id), 'delete from public.messages where conversation_id = $1 returning id', [
      conversation,
    ]);
    expect(erase).toEqual([]);
  });

  it('users start conversations only as themselves, in their active tenant, as MEMBER and up', async () => {
    const start = (user: typeof world.a.member, tenantId: string, ownerId: string, target = world.a.id) =>
      sqlState(
        as(db.gateway, claimsOf(user, tenantId), 'insert into public.conversations (tenant_id, user_id) values ($1, $2)', [target, ownerId]),
      );
    expect(await start(world.a.member, world.a.id, world.a.member.id)).toBe('ok');
    expect(await start(world.a.member, world.a.id, world.a.admin.id)).toBe('42501');
    expect(await start(world.a.viewer, world.a.id, world.a.viewer.id)).toBe('42501');
    expect(await start(world.b.member, world.b.id, world.b.member.id)).toBe('42501');
  });
});

describe('api_keys', () => {
  async function keyOf(user: typeof world.a.member, tenantId: string) {
    const secret = `gw_${randomBytes(24).toString('hex')}`;
    const hash = createHash('sha256').update(secret).digest('hex');
    const [row] = await as<{ id: string }>(
      db.gateway,
      claimsOf(user, tenantId),
      "insert into public.api_keys (tenant_id, user_id, name, prefix, key_hash) values ($1, $2, 'ci', $3, $4) returning id",
      [tenantId, user.id, secret.slice(0, 10), hash],
    );
    return { id: row!.id, hash };
  }

  it('a user manages their own keys; OWNER and ADMIN see them; other members and tenants neither see nor touch them', async () => {
    const key = await keyOf(world.a.member, world.a.id);
    const sees = async (user: typeof world.a.member, tenantId: string) =>
      (await as(db.gateway, claimsOf(user, tenantId), 'select id from public.api_keys where id = $1', [key.id])).length === 1;
    expect(await sees(world.a.member, world.a.id)).toBe(true);
    expect(await sees(world.a.owner, world.a.id)).toBe(true);
    expect(await sees(world.a.admin, world.a.id)).toBe(true);
    for (const [user, tenantId] of [
      [world.a.viewer, world.a.id],
      [world.b.owner, world.b.id],
      [world.b.owner, world.a.id],
    ] as const) {
      expect(await sees(user, tenantId)).toBe(false);
      const renamed = await as(db.gateway, claimsOf(user, tenantId), "update public.api_keys set name = 'taken' where id = $1 returning id", [key.id]);
      expect(renamed).toEqual([]);
    }
    const own = await as(db.gateway, claimsOf(world.a.member, world.a.id), "update public.api_keys set name = 'renamed' where id = $1 returning id", [
      key.id,
    ]);
    expect(own).toEqual([{ id: key.id }]);
  });

  it('the hash column is not readable by authenticated, and keys are not created for others', async () => {
    const key = await keyOf(world.a.member, world.a.id);
    const readHash = as(db.gateway, claimsOf(world.a.member, world.a.id), 'select key_hash from public.api_keys where id = $1', [key.id]);
    expect(await sqlState(readHash)).toBe('42501');
    expect(await sqlState(as(db.gateway, claimsOf(world.a.member, world.a.id), 'select * from public.api_keys'))).toBe('42501');
    const forOther = as(
      db.gateway,
      claimsOf(world.a.admin, world.a.id),
      "insert into public.api_keys (tenant_id, user_id, name, prefix, key_hash) values ($1, $2, 'x', 'gw_xxxxxx', repeat('a', 64))",
      [world.a.id, world.a.member.id],
    );
    expect(await sqlState(forOther)).toBe('42501');
  });

  it('authenticate_api_key resolves live keys only and records their use', async () => {
    const key = await keyOf(world.a.member, world.a.id);
    const lookup = (hash: string) =>
      as<{ user_id: string; tenant_id: string }>(db.gateway, ANON, 'select user_id, tenant_id from private.authenticate_api_key($1)', [hash]);
    expect(await lookup(key.hash)).toEqual([{ user_id: world.a.member.id, tenant_id: world.a.id }]);
    const used = await db.owner.query<{ used: boolean }>('select last_used_at is not null as used from public.api_keys where id = $1', [key.id]);
    expect(used.rows[0]!.used).toBe(true);
    expect(await lookup('0'.repeat(64))).toEqual([]);
    await db.owner.query('update public.api_keys set revoked_at = now() where id = $1', [key.id]);
    expect(await lookup(key.hash)).toEqual([]);
    const expired = await keyOf(world.a.member, world.a.id);
    await db.owner.query("update public.api_keys set expires_at = now() - interval '1 second' where id = $1", [expired.id]);
    expect(await lookup(expired.hash)).toEqual([]);
    expect(await sqlState(as(db.gateway, claimsOf(world.a.member, world.a.id), 'select * from private.authenticate_api_key($1)', [key.hash]))).toBe(
      '42501',
    );
  });
});

describe('posts', () => {
  it('everyone, anon included, reads published posts; drafts stay inside their tenant', async () => {
    const published = await db.owner.transaction((tx) =>
      insertRow(tx, 'posts', { tenant_id: world.a.id, author_id: world.a.member.id, title: 'Hello', slug: 'hello', published: true }),
    );
    const draft = await db.owner.transaction((tx) =>
      insertRow(tx, 'posts', { tenant_id: world.a.id, author_id: world.a.member.id, title: 'Draft', slug: 'draft' }),
    );
    const visible = async (claims: Parameters<typeof as>[1]) =>
      (await as<{ id: string }>(db.gateway, claims, 'select id from public.posts where id in ($1, $2)', [published, draft])).map((r) => r.id).sort();
    expect(await visible(ANON)).toEqual([published]);
    expect(await visible(claimsOf(world.b.owner, world.b.id))).toEqual([published]);
    expect(await visible(claimsOf(world.b.owner, world.a.id))).toEqual([published]);
    expect(await visible(claimsOf(world.a.viewer, world.a.id))).toEqual([published, draft].sort());
    const stamped = await db.owner.query<{ stamped: boolean }>('select published_at is not null as stamped from public.posts where id = $1', [
      published,
    ]);
    expect(stamped.rows[0]!.stamped).toBe(true);
    const anonWrite = as(db.gateway, ANON, "update public.posts set title = 'defaced'");
    expect(await sqlState(anonWrite)).toBe('42501');
    const foreignWrite = await as(db.gateway, claimsOf(world.b.owner, world.b.id), "update public.posts set title = 'defaced' where id = $1 returning id", [
      published,
    ]);
    expect(foreignWrite).toEqual([]);
  });
});

describe('anonymous reads', () => {
  it('find no row in any table but published posts, and never an API key hash', async () => {
    const { rows } = await db.owner.query<{ table_name: string }>(
      "select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' and table_name not in ('posts', 'api_keys')",
    );
    expect(rows.length).toBeGreaterThan(15);
    for (const { table_name } of rows) {
      expect(await as(db.gateway, ANON, `select * from public.${table_name}`), table_name).toEqual([]);
    }
    expect(await as(db.gateway, ANON, 'select id from public.api_keys')).toEqual([]);
    expect(await sqlState(as(db.gateway, ANON, 'select key_hash from public.api_keys'))).toBe('42501');
  });
});
