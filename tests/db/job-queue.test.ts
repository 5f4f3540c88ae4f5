import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { ANON, as, claimsOf, createWorld, SERVICE, sqlState, type World } from '../support/world.ts';

// The background work's queue (20251124001500_job_queue.sql), driven as the worker drives it: service_role.
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

interface Job {
  id: string;
  kind: string;
  attempts: number;
  locked_by: string | null;
  dead_at: string | null;
  last_error: string | null;
}

const enqueue = (kind: string, key: string | null = null, maxAttempts = 5) =>
  as<{ id: string }>(db.gateway, SERVICE, `select private.enqueue_job($1, '{"n": 1}'::jsonb, $2, '0 seconds', $3)::text as id`, [kind, key, maxAttempts]).then((rows) => rows[0]!.id);
const claim = (worker: string, howMany: number, lease = '1 minute') =>
  as<Job>(db.gateway, SERVICE, 'select id::text, kind, attempts, locked_by, dead_at, last_error from private.claim_jobs($1, $2, $3::interval)', [worker, howMany, lease]);
const complete = (id: string, worker: string) =>
  as<{ ok: boolean }>(db.gateway, SERVICE, 'select private.complete_job($1, $2) as ok', [id, worker]).then((rows) => rows[0]!.ok);
const fail = (id: string, worker: string, retry: boolean) =>
  as<{ ok: boolean }>(db.gateway, SERVICE, 'select private.fail_job($1, $2, $3, $4) as ok', [id, worker, 'provider timed out', retry]).then((rows) => rows[0]!.ok);
const row = (id: string) =>
  db.owner.query<Job & { due_in_seconds: number }>(
    'select id::text, attempts, locked_by, dead_at, last_error, extract(epoch from run_at - now())::float8 as due_in_seconds from private.jobs where id = $1',
    [id],
  ).then(({ rows }) => rows[0]);
const makeDue = (id: string) => db.owner.query('update private.jobs set run_at = now() where id = $1', [id]);

describe('the job queue', () => {
  it('is the worker\'s alone: callers and anonymous clients can neither enqueue nor claim', async () => {
    for (const claims of [ANON, claimsOf(world.a.owner, world.a.id)]) {
      expect(await sqlState(as(db.gateway, claims, `select private.enqueue_job('embed.post')`))).toBe('42501');
      expect(await sqlState(as(db.gateway, claims, `select * from private.claim_jobs('w', 1, '1 minute')`))).toBe('42501');
      expect(await sqlState(as(db.gateway, claims, 'select * from private.jobs'))).toBe('42501');
    }
  });

  it('keeps one waiting job per unique key', async () => {
    const first = await enqueue('embed.post', 'post:1');
    expect(await enqueue('embed.post', 'post:1')).toBe(first);
    expect(await enqueue('embed.post', 'post:2')).not.toBe(first);
    expect(await enqueue('embed.post')).not.toBe(await enqueue('embed.post'));
  });

  it('gives a claimed job to one worker until it completes it', async () => {
    const id = await enqueue('run.analysis');
    const [job] = await claim('worker-a', 10);
    expect(job).toMatchObject({ id, attempts: 1, locked_by: 'worker-a' });
    expect(await claim('worker-b', 10)).toEqual([]);
    expect(await complete(id, 'worker-b')).toBe(false);
    expect(await complete(id, 'worker-a')).toBe(true);
    expect(await row(id)).toBeUndefined();
  });

  it('claims a job again once its worker\'s lease ran out, and the late worker cannot complete it', async () => {
    const id = await enqueue('run.analysis');
    await claim('killed-worker', 1, '0 seconds');
    // A new transaction: now() has moved past the lease.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const [again] = await claim('worker-b', 1);
    expect(again).toMatchObject({ id, attempts: 2, locked_by: 'worker-b' });
    expect(await complete(id, 'killed-worker')).toBe(false);
    expect(await complete(id, 'worker-b')).toBe(true);
  });

  it('backs off a retryable failure exponentially, then gives up after max_attempts', async () => {
    const id = await enqueue('run.analysis', null, 3);
    await claim('w', 1);
    expect(await fail(id, 'w', true)).toBe(true);
    let state = await row(id);
    expect(state).toMatchObject({ attempts: 1, locked_by: null, dead_at: null, last_error: 'provider timed out' });
    expect(state!.due_in_seconds).toBeGreaterThan(1);
    expect(state!.due_in_seconds).toBeLessThanOrEqual(2);
    expect(await claim('w', 1)).toEqual([]); // not due yet
    await makeDue(id);
    await claim('w', 1);
    await fail(id, 'w', true);
    state = await row(id);
    expect(state!.due_in_seconds).toBeGreaterThan(3); // 2^2 s
    await makeDue(id);
    await claim('w', 1);
    await fail(id, 'w', true);
    state = await row(id);
    expect(state!.attempts).toBe(3);
    expect(state!.dead_at).not.toBeNull();
    await makeDue(id);
    expect(await claim('w', 1)).toEqual([]);
  });

  it('gives up at once on a failure that will not pass, and frees its unique key', async () => {
    const id = await enqueue('embed.post', 'post:9');
    await claim('w', 1);
    await fail(id, 'w', false);
    expect((await row(id))!.dead_at).not.toBeNull();
    expect(await enqueue('embed.post', 'post:9')).not.toBe(id);
  });

  it('never hands one job to two workers claiming at the same time', async () => {
    const ids = await Promise.all(Array.from({ length: 12 }, (_, n) => enqueue('embed.post', `post:c${n}`)));
    const claimed = await Promise.all(['w1', 'w2', 'w3'].map((worker) => claim(worker, 5)));
    const all = claimed.flat().map((job) => job.id);
    expect(new Set(all).size).toBe(all.length);
    expect(all.sort()).toEqual([...ids].sort());
  });
});
