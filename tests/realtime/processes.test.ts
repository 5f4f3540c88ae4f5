import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, serverUrl, type TestDatabase } from '../support/database.ts';
import { TEST_ISSUER, TEST_SECRET, tokenFor } from '../support/gateway.ts';
import { createWorld, insertRow, type World } from '../support/world.ts';
import { type RealtimeGateway, realtimeMetric, subscribeOverSse } from '../support/realtime.ts';
import { until } from '../support/until.ts';

// Two `npm start` processes on one PostgreSQL: each listens to the change feed itself and
// delivers every change to its own subscribers.
let db: TestDatabase;
let world: World;
let dataDir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  if (!serverUrl) return;
  db = await createTestDatabase();
  world = await createWorld(db.owner);
  dataDir = await mkdtemp(path.join(tmpdir(), 'gw-realtime-'));
}, 60_000);
afterAll(async () => {
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map((child) => new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(null)))));
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  await db?.close();
});

function start(): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      ...process.env,
      PORT: '0',
      DATA_DIR: dataDir,
      DATABASE_URL: db.urls!.gateway,
      MIGRATION_DATABASE_URL: db.urls!.owner,
      SUPABASE_JWT_SECRET: TEST_SECRET,
      JWT_ISSUER: TEST_ISSUER,
      WORKER_ENABLED: 'false',
      LOAD_DEMO_DATA: 'false',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /GraphQL at (http:\/\/\S+)\/graphql/.exec(output);
      if (match) resolve(match[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}:\n${output}`)));
  });
}


describe.skipIf(!serverUrl)('two gateway processes on one PostgreSQL', () => {
  it('each delivers every change to its own subscribers, and nothing of another tenant', async () => {
    const [first, second] = await Promise.all([start(), start()]);
    const token = await tokenFor(world.a.member, world.a.id);
    const query = 'subscription { statusChanged { operation status } }';
    const gateways = [first!, second!].map((url) => ({ url }) as RealtimeGateway);
    const members = gateways.map((gateway) => subscribeOverSse<{ statusChanged: { operation: string; status: string } }>(gateway, token, query));
    const outsider = subscribeOverSse(gateways[1]!, await tokenFor(world.b.owner, world.b.id), query);
    try {
      // Each process counts its subscribers on /metrics.
      for (const [url, count] of [[first!, 1], [second!, 2]] as const) {
        const deadline = Date.now() + 20_000;
        while ((await realtimeMetric(url, 'gateway_realtime_subscribers')) < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
        expect(await realtimeMetric(url, 'gateway_realtime_subscribers')).toBe(count);
      }
      const counts = members.map((received) => received.events.length);
      const id = await insertRow(db.owner, 'analyses', { tenant_id: world.a.id, user_id: world.a.member.id, type: 'TEXT_ANALYSIS', input: 'both' });
      await db.owner.query(`update public.analyses set status = 'PROCESSING' where id = $1`, [id]);
      for (const [index, received] of members.entries()) {
        await until(() => received.events.length >= counts[index]! + 2);
        expect(received.events.slice(counts[index]!).map((event) => event.data?.statusChanged)).toEqual([
          { operation: 'INSERT', status: 'PENDING' },
          { operation: 'UPDATE', status: 'PROCESSING' },
        ]);
      }
      expect(outsider.events).toEqual([]);
    } finally {
      for (const received of [...members, outsider]) received.dispose();
    }
  }, 120_000);
});
