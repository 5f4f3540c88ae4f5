import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NotificationSource, postgresNotifications } from '../../src/db/notifications.ts';
import { type Change, ChangeFeed, parseChange } from '../../src/realtime/change-feed.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { until } from '../support/until.ts';
import { as, createWorld, insertRow, SERVICE, type World } from '../support/world.ts';

// A process's change feed: one LISTEN, fanned out in memory to the listeners of each tenant.
let db: TestDatabase;
let world: World;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
});
afterAll(() => db?.close());

/** The gateway's own source on a server (a dedicated connection as authenticator); PGlite's listen embedded. */
const source = (): NotificationSource => (db.urls ? postgresNotifications(db.urls.gateway) : { listen: db.listen });

const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

const analysisOf = (tenantId: string, userId: string) =>
  insertRow(db.owner, 'analyses', { tenant_id: tenantId, user_id: userId, type: 'TEXT_ANALYSIS', input: 'watched' });

describe('the change feed of a process', () => {
  it("hands each listener its own tenant's changes only, and keeps nothing after they leave", async () => {
    const feed = new ChangeFeed(source());
    await feed.start();
    try {
      const forA: Change[] = [];
      const forB: Change[] = [];
      const leaveA = feed.subscribe(world.a.id, (change) => forA.push(change));
      const leaveB = feed.subscribe(world.b.id, (change) => forB.push(change));
      expect(feed.size).toEqual({ listeners: 2, tenants: 2 });
      const id = await analysisOf(world.a.id, world.a.member.id);
      await as(db.gateway, SERVICE, `update public.analyses set status = 'PROCESSING' where id = $1`, [id]);
      await until(() => forA.length >= 2, { what: "tenant A's two changes" });
      await settle();
      expect(forA.map((change) => [change.op, change.id, change.status, change.previous])).toEqual([
        ['INSERT', id, 'PENDING', null],
        ['UPDATE', id, 'PROCESSING', 'PENDING'],
      ]);
      expect(forB).toEqual([]);

      leaveA();
      leaveA(); // leaving twice is harmless
      leaveB();
      expect(feed.size).toEqual({ listeners: 0, tenants: 0 });
      await as(db.gateway, SERVICE, `update public.analyses set status = 'COMPLETED' where id = $1`, [id]);
      await settle();
      expect(forA).toHaveLength(2);
    } finally {
      await feed.stop();
    }
  });

  it('survives a malformed notification and a failing listener', async () => {
    const feed = new ChangeFeed(source());
    await feed.start();
    try {
      const got: Change[] = [];
      feed.subscribe(world.a.id, () => {
        throw new Error('a listener bug');
      });
      feed.subscribe(world.a.id, (change) => got.push(change));
      await db.owner.query(`select pg_notify('gateway_changes', 'not json'), pg_notify('gateway_changes', '{"table": 1}')`);
      const id = await analysisOf(world.a.id, world.a.member.id);
      await until(() => got.length >= 1, { what: 'the change after the malformed notifications' });
      expect(got.map((change) => change.id)).toEqual([id]);
    } finally {
      await feed.stop();
    }
  });

  it.runIf(Boolean(process.env.DATABASE_URL))('delivers every change to each of two processes on one database', async () => {
    const feeds = [new ChangeFeed(source()), new ChangeFeed(source())];
    await Promise.all(feeds.map((feed) => feed.start()));
    try {
      const got: Change[][] = [[], []];
      feeds.forEach((feed, n) => feed.subscribe(world.b.id, (change) => got[n]!.push(change)));
      const ids = [];
      for (let n = 0; n < 5; n += 1) ids.push(await analysisOf(world.b.id, world.b.member.id));
      await until(() => got.every((changes) => changes.length >= 5), { what: 'five changes in each process' });
      for (const changes of got) expect(changes.map((change) => change.id)).toEqual(ids);
    } finally {
      await Promise.all(feeds.map((feed) => feed.stop()));
    }
  });
});

describe('parseChange', () => {
  it('takes what the trigger writes and nothing else', () => {
    const change = {
      table: 'uploads', op: 'DELETE', id: 'x', tenant: 't', project: 'p', user: null, status: null, previous: 'PENDING', at: '2026-11-24T00:00:00.000000Z',
    };
    expect(parseChange(JSON.stringify(change))).toEqual(change);
    for (const bad of ['', 'null', '[]', JSON.stringify({ ...change, op: 'TRUNCATE' }), JSON.stringify({ ...change, tenant: null })]) {
      expect(parseChange(bad)).toBeUndefined();
    }
  });
});
