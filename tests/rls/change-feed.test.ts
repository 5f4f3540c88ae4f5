import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { addMember, as, createUser, createWorld, insertRow, SERVICE, type World } from '../support/world.ts';

// 20251124001900_change_feed.sql: what the NOTIFY channel gateway_changes announces, whoever
// writes the row (the worker, the Data API, an import), and what it never carries.
let db: TestDatabase;
let world: World;
let stop: () => Promise<void>;
const heard: Record<string, unknown>[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
  stop = await db.listen('gateway_changes', (payload) => heard.push(JSON.parse(payload) as Record<string, unknown>));
});
afterAll(async () => {
  await stop?.();
  await db?.close();
});
beforeEach(() => {
  heard.length = 0;
});

/** NOTIFY is delivered after commit, asynchronously on a server: wait for `count` of them. */
async function announcements(count: number): Promise<Record<string, unknown>[]> {
  const deadline = Date.now() + 5_000;
  while (heard.length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  // Anything more (or, waiting for none, anything at all) would arrive right behind: give it a moment.
  await new Promise((resolve) => setTimeout(resolve, 300));
  return [...heard];
}

describe('the change feed', () => {
  it('announces an insert, each status change and a delete, naming the row and its statuses only', async () => {
    const id = await insertRow(db.owner, 'analyses', {
      tenant_id: world.a.id, user_id: world.a.member.id, type: 'TEXT_ANALYSIS', input: 'secret words that must not travel',
    });
    await as(db.gateway, SERVICE, `update public.analyses set status = 'PROCESSING' where id = $1`, [id]);
    await as(db.gateway, SERVICE, `update public.analyses set status = 'COMPLETED', result = '{"summary": "secret"}' where id = $1`, [id]);
    await db.owner.query('delete from public.analyses where id = $1', [id]);
    const got = await announcements(4);
    expect(got.map(({ at: _at, ...rest }) => rest)).toEqual([
      { table: 'analyses', op: 'INSERT', id, tenant: world.a.id, project: null, status: 'PENDING', previous: null },
      { table: 'analyses', op: 'UPDATE', id, tenant: world.a.id, project: null, status: 'PROCESSING', previous: 'PENDING' },
      { table: 'analyses', op: 'UPDATE', id, tenant: world.a.id, project: null, status: 'COMPLETED', previous: 'PROCESSING' },
      { table: 'analyses', op: 'DELETE', id, tenant: world.a.id, project: null, status: null, previous: 'COMPLETED' },
    ]);
    for (const announcement of got) {
      expect(Date.parse(String(announcement.at))).toBeGreaterThan(Date.now() - 60_000);
      expect(JSON.stringify(announcement)).not.toContain('secret');
    }
  });

  it('stays quiet for an update that leaves the status alone, and for a rolled-back change', async () => {
    const id = await insertRow(db.owner, 'uploads', {
      tenant_id: world.a.id, user_id: world.a.member.id, filename: 'f.pdf', original_name: 'F.pdf', path: '/f.pdf', size_bytes: 10, mime_type: 'application/pdf',
    });
    await announcements(1);
    heard.length = 0;
    await db.owner.query(`update public.uploads set metadata = '{"pages": 3}' where id = $1`, [id]);
    await db.owner
      .transaction(async (tx) => {
        await tx.query(`update public.uploads set status = 'PROCESSING' where id = $1`, [id]);
        throw new Error('roll back');
      })
      .catch(() => undefined);
    expect(await announcements(0)).toEqual([]);
  });

  it('announces what ends subscriptions: a membership removed, a tenant suspended, a user deactivated', async () => {
    const user = await createUser(db.owner, 'leaving');
    await addMember(db.owner, world.b.id, user.id, 'MEMBER');
    heard.length = 0;
    await db.owner.query('update public.users set is_active = false where id = $1', [user.id]);
    await db.owner.query('update public.users set name = $2 where id = $1', [user.id, 'renamed']);
    await db.owner.query('delete from public.tenant_users where tenant_id = $1 and user_id = $2', [world.b.id, user.id]);
    await db.owner.query(`update public.tenants set status = 'SUSPENDED' where id = $1`, [world.b.id]);
    await db.owner.query(`update public.tenants set status = 'ACTIVE' where id = $1`, [world.b.id]);
    const got = await announcements(4);
    expect(got.map(({ at: _at, id: _id, ...rest }) => rest)).toEqual([
      { table: 'users', op: 'UPDATE', tenant: world.b.id, user: user.id, status: 'INACTIVE', previous: 'ACTIVE' },
      { table: 'tenant_users', op: 'DELETE', tenant: world.b.id, user: user.id },
      { table: 'tenants', op: 'UPDATE', tenant: world.b.id, status: 'SUSPENDED', previous: 'ACTIVE' },
      { table: 'tenants', op: 'UPDATE', tenant: world.b.id, status: 'ACTIVE', previous: 'SUSPENDED' },
    ]);
  });

  it('covers every table with a lifecycle', async () => {
    const { rows } = await db.owner.query<{ table: string }>(
      `select distinct event_object_table as table from information_schema.triggers
       where trigger_name in ('announce_insert_or_delete', 'announce_status_change') order by 1`,
    );
    expect(rows.map((row) => row.table)).toEqual([
      'analyses', 'compliance_monitoring', 'content_generations', 'contract_analyses', 'customer_behavior_analyses',
      'learning_paths', 'localization_analyses', 'uploads',
    ]);
  });
});
