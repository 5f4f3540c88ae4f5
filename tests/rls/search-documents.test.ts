import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { ANON, as, claimsOf, createWorld, insertRow, sqlState, type World } from '../support/world.ts';

// The full-text documents of posts and analyses, read as callers through their policies.
let db: TestDatabase;
let world: World;
const ids: Record<string, string> = {};

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
  const { a, b } = world;
  ids.aTitle = await insertRow(db.owner, 'posts', { tenant_id: a.id, author_id: a.owner.id, title: 'Harvesting solar energy', slug: 'solar-title', published: true });
  ids.aContent = await insertRow(db.owner, 'posts', {
    tenant_id: a.id, author_id: a.member.id, title: 'Roof notes', slug: 'roof', published: true, content: 'We looked at panels that harvest solar power on the roof.',
  });
  ids.aDraft = await insertRow(db.owner, 'posts', { tenant_id: a.id, author_id: a.owner.id, title: 'Solar draft', slug: 'solar-draft' });
  ids.bPost = await insertRow(db.owner, 'posts', { tenant_id: b.id, author_id: b.owner.id, title: 'Solar in tenant b', slug: 'solar-b' });
  ids.aAnalysis = await insertRow(db.owner, 'analyses', {
    tenant_id: a.id, user_id: a.member.id, type: 'SENTIMENT_ANALYSIS', input: 'Customers love the new solar charger',
    result: JSON.stringify({ label: 'positive', keywords: ['battery', 'charger'], score: 0.9 }),
  });
  ids.bAnalysis = await insertRow(db.owner, 'analyses', { tenant_id: b.id, user_id: b.owner.id, type: 'SENTIMENT_ANALYSIS', input: 'Solar charger complaints' });
});
afterAll(() => db?.close());

const MATCHING = `select id, ts_rank(search_document, q) as rank
  from public.%s, websearch_to_tsquery('english', $1) q
  where search_document @@ q order by rank desc, id`;
const posts = (words: string) => MATCHING.replace('%s', 'posts').replace('$1', `'${words}'`);
const analyses = (words: string) => MATCHING.replace('%s', 'analyses').replace('$1', `'${words}'`);

describe('search documents', () => {
  it('rank a match in the title above one in the content, stemmed ("harvesting" finds "harvest")', async () => {
    const rows = await as<{ id: string }>(db.gateway, claimsOf(world.a.viewer, world.a.id), posts('harvest solar'));
    expect(rows.map((row) => row.id)).toEqual([ids.aTitle, ids.aContent]);
  });

  it("find only the caller's tenant's rows, and drafts only for the tenant's members", async () => {
    const member = await as<{ id: string }>(db.gateway, claimsOf(world.a.member, world.a.id), posts('solar'));
    expect(member.map((row) => row.id).sort()).toEqual([ids.aTitle, ids.aContent, ids.aDraft].sort());
    const other = await as<{ id: string }>(db.gateway, claimsOf(world.b.member, world.b.id), posts('solar'));
    expect(other.map((row) => row.id)).toContain(ids.bPost);
    expect(other.map((row) => row.id)).not.toContain(ids.aDraft);
    const outsider = await as<{ id: string }>(db.gateway, claimsOf(world.outsider), analyses('solar'));
    expect(outsider).toEqual([]);
  });

  it('give anonymous callers published posts only', async () => {
    const rows = await as<{ id: string }>(db.gateway, ANON, posts('solar'));
    expect(rows.map((row) => row.id).sort()).toEqual([ids.aTitle, ids.aContent].sort());
  });

  it("cover an analysis's input and the strings of its result, within its tenant", async () => {
    const claims = claimsOf(world.a.member, world.a.id);
    expect((await as<{ id: string }>(db.gateway, claims, analyses('battery'))).map((row) => row.id)).toEqual([ids.aAnalysis]);
    expect((await as<{ id: string }>(db.gateway, claims, analyses('charger'))).map((row) => row.id)).toEqual([ids.aAnalysis]);
    // Keys and numbers of the result are not text.
    expect(await as(db.gateway, claims, analyses('keywords'))).toEqual([]);
  });

  it('follow the text they come from, and cannot be written', async () => {
    const claims = claimsOf(world.a.owner, world.a.id);
    await as(db.gateway, claims, `update public.posts set title = 'Wind turbines' where id = $1`, [ids.aTitle]);
    expect((await as<{ id: string }>(db.gateway, claims, posts('turbine'))).map((row) => row.id)).toEqual([ids.aTitle]);
    expect(await sqlState(as(db.gateway, claims, `update public.posts set search_document = to_tsvector('spam') where id = $1`, [ids.aTitle]))).not.toBe('ok');
  });

  it('stay out of the audit trail', async () => {
    const { rows } = await db.owner.query<{ n: number }>(
      `select count(*)::int as n from public.audit_logs where table_name in ('posts', 'analyses')
         and (new_values ? 'search_document' or old_values ? 'search_document')`,
    );
    const { rows: all } = await db.owner.query<{ n: number }>(`select count(*)::int as n from public.audit_logs where table_name in ('posts', 'analyses')`);
    expect(all[0]!.n).toBeGreaterThan(0);
    expect(rows[0]!.n).toBe(0);
  });
});
