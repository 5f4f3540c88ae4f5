import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CONTENT_TABLES } from '../support/content-tables.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { creditBalance, grantCredits } from '../support/ledger.ts';
import { as, claimsOf, createWorld, insertRow, SERVICE, sqlState, type World } from '../support/world.ts';

// 20251124001600_background_work.sql, as a client of Supabase's Data API meets it: the
// database itself queues the work for every paid request and refunds a failed one once,
// whoever wrote the row; embeddings stay the server's to write.
let db: TestDatabase;
let world: World;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
});
afterAll(() => db?.close());
beforeEach(async () => {
  await db.owner.query('delete from private.jobs');
});

const PAID = CONTENT_TABLES.filter((table) => table.paid);
const member = () => claimsOf(world.a.member, world.a.id);

/** A paid request inserted straight through SQL as the member, as the Data API would. */
async function insertAsMember(table: string, row: Record<string, unknown>): Promise<string> {
  const values = { tenant_id: world.a.id, user_id: world.a.member.id, ...row };
  const columns = Object.keys(values);
  const [inserted] = await as<{ id: string }>(
    db.gateway,
    member(),
    `insert into public.${table} (${columns.join(', ')}) values (${columns.map((_, i) => `$${i + 1}`).join(', ')}) returning id`,
    Object.values(values),
  );
  return inserted!.id;
}
const jobs = (id: string) =>
  db.owner.query<{ kind: string; payload: Record<string, unknown> }>(`select kind, payload from private.jobs where payload ->> 'id' = $1 order by kind`, [id]).then(({ rows }) => rows);
const fail = async (table: string, id: string) => {
  await as(db.gateway, SERVICE, `update public.${table} set status = 'PROCESSING' where id = $1`, [id]);
  await as(db.gateway, SERVICE, `update public.${table} set status = 'FAILED' where id = $1`, [id]);
};
const refundsOf = (table: string, id: string) =>
  db.owner
    .query<{ amount: number }>(`select amount from public.credit_transactions where kind = 'REFUND' and metadata ->> 'refundOf' = $1`, [`${table}:${id}`])
    .then(({ rows }) => rows.map((row) => row.amount));

describe('work queued by the database', () => {
  it.each(PAID.map((table) => [table.table, table] as const))('queues one run of a %s inserted by a member, naming only the row', async (name, table) => {
    await grantCredits(db.owner, world.a.id, world.a.member.id, 100);
    const id = await insertAsMember(name, table.minimalRow(1));
    const queued = (await jobs(id)).filter((job) => job.kind === 'run_request');
    expect(queued).toEqual([{ kind: 'run_request', payload: { table: name, id } }]);
  });

  it('queues an embedding when a post is written and when its text changes, not for other edits', async () => {
    const id = await insertRow(db.owner, 'posts', { tenant_id: world.a.id, author_id: world.a.owner.id, title: 'Tides', slug: 'tides' });
    expect((await jobs(id)).map((job) => job.kind)).toEqual(['embed']);
    await db.owner.query('delete from private.jobs');
    await db.owner.query('update public.posts set featured = true where id = $1', [id]);
    expect(await jobs(id)).toEqual([]);
    await db.owner.query(`update public.posts set content = 'Twice a day.' where id = $1`, [id]);
    expect((await jobs(id)).map((job) => job.kind)).toEqual(['embed']);
    // Queued again while waiting: still one job.
    await db.owner.query(`update public.posts set title = 'Tides, again' where id = $1`, [id]);
    expect(await jobs(id)).toHaveLength(1);
  });

  it('queues nothing for a row imported with its embedding', async () => {
    const vector = `[${new Array(384).fill(0).map((_, i) => (i === 0 ? 1 : 0)).join(',')}]`;
    const id = await insertRow(db.owner, 'posts', {
      tenant_id: world.a.id, author_id: world.a.owner.id, title: 'Imported', slug: 'imported', embedding: vector, embedding_model: 'import',
    });
    expect(await jobs(id)).toEqual([]);
  });

  it('keeps embeddings and their model the server\'s: members can write neither, nor read the queue', async () => {
    const id = await insertAsMember('posts', { author_id: world.a.member.id, title: 'Mine', slug: 'mine' }).catch(() => null);
    const post = id ?? (await insertRow(db.owner, 'posts', { tenant_id: world.a.id, author_id: world.a.member.id, title: 'Mine', slug: 'mine-2' }));
    expect(await sqlState(as(db.gateway, member(), `update public.posts set embedding_model = 'forged' where id = $1`, [post]))).toBe('42501');
    expect(await sqlState(as(db.gateway, member(), 'select * from private.jobs'))).toBe('42501');
  });
});

describe('refunds', () => {
  it.each(PAID.map((table) => [table.table, table] as const))('gives back what a failed %s cost, once', async (name, table) => {
    await grantCredits(db.owner, world.a.id, world.a.member.id, 100);
    const before = await creditBalance(db.owner, world.a.id, world.a.member.id);
    const id = await insertAsMember(name, table.minimalRow(2));
    const spent = before - (await creditBalance(db.owner, world.a.id, world.a.member.id));
    expect(spent).toBeGreaterThan(0);
    await fail(name, id);
    expect(await refundsOf(name, id)).toEqual([spent]);
    expect(await creditBalance(db.owner, world.a.id, world.a.member.id)).toBe(before);
  });

  it('refunds nothing for a request that was never charged', async () => {
    const id = await insertRow(db.owner, 'analyses', { tenant_id: world.a.id, user_id: world.a.member.id, type: 'TEXT_ANALYSIS', input: 'demo', credits_cost: 10 });
    const before = await creditBalance(db.owner, world.a.id, world.a.member.id);
    await fail('analyses', id);
    expect(await refundsOf('analyses', id)).toEqual([]);
    expect(await creditBalance(db.owner, world.a.id, world.a.member.id)).toBe(before);
  });

  it('refuses a second refund of one request, whoever asks', async () => {
    await grantCredits(db.owner, world.a.id, world.a.member.id, 100);
    const id = await insertAsMember('analyses', { type: 'TEXT_ANALYSIS', input: 'twice?' });
    await fail('analyses', id);
    expect(
      await sqlState(
        db.owner.query(`select private.append_credit_entry($1, $2, 10, 'REFUND', 'again', jsonb_build_object('refundOf', $3::text))`, [
          world.a.id,
          world.a.member.id,
          `analyses:${id}`,
        ]),
      ),
    ).toBe('23505');
    expect(await refundsOf('analyses', id)).toEqual([10]);
  });
});
