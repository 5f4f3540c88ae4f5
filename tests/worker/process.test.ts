import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDING_DIMENSIONS } from '../../src/ai/provider.ts';
import { createTestDatabase, serverUrl, type TestDatabase } from '../support/database.ts';
import { grantCredits } from '../support/ledger.ts';
import { as, claimsOf, createWorld, type World } from '../support/world.ts';
import { until } from '../support/until.ts';

// `npm run worker` as an operator runs it: separate processes on a shared PostgreSQL, one of
// them killed with SIGKILL while it holds a job.
let db: TestDatabase;
let world: World;
let service: Server;
let baseUrl: string;
/** While false, the chat service never answers: a worker that calls it hangs there. */
let answering = false;
const chatCalls: string[] = [];

beforeAll(async () => {
  if (!serverUrl) return;
  db = await createTestDatabase();
  world = await createWorld(db.owner);
  service = createServer((request, response: ServerResponse) => {
    let raw = '';
    request.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    request.on('end', () => {
      const body = JSON.parse(raw) as { messages?: { content: string }[]; input?: string[] };
      const reply = (value: unknown) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(value));
      };
      if (body.input) {
        reply({ data: body.input.map((_, index) => ({ index, embedding: Array.from({ length: EMBEDDING_DIMENSIONS }, (_, n) => (n === index ? 1 : 0.01)) })) });
        return;
      }
      chatCalls.push(body.messages![1]!.content);
      if (!answering) return;
      reply({ model: 'chat-test', choices: [{ message: { content: '{"summary": "done", "findings": [], "details": {}, "confidence": 0.7}' } }] });
    });
  });
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(service.address() as AddressInfo).port}/v1`;
}, 120_000);
afterAll(async () => {
  service?.closeAllConnections();
  await new Promise((resolve) => service?.close(resolve));
  await db?.close();
});

function startWorker(env: Record<string, string>): { child: ChildProcess; output: () => string; started: Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker/main.ts'], {
    env: {
      ...process.env,
      DATABASE_URL: db.urls!.gateway,
      MIGRATION_DATABASE_URL: db.urls!.owner,
      AI_BASE_URL: baseUrl,
      EMBEDDING_MODEL: 'embed-test',
      CHAT_MODEL: 'chat-test',
      WORKER_POLL_MS: '100',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const started = new Promise<void>((resolve, reject) => {
    setTimeout(() => reject(new Error(`worker did not start:\n${output}`)), 30_000).unref();
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/worker \S+ started/.test(output)) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}:\n${output}`)));
  });
  return { child, output: () => output, started };
}

const statusOf = async (id: string) =>
  (await db.owner.query<{ status: string; confidence: number | null }>('select status, confidence from public.analyses where id = $1', [id])).rows[0]!;


describe.runIf(Boolean(serverUrl))('npm run worker', () => {
  it('finishes a job whose worker was killed mid-call, once, in another worker process', async () => {
    await grantCredits(db.owner, world.a.id, world.a.member.id, 100);
    const [{ id } = { id: '' }] = await as<{ id: string }>(
      db.gateway,
      claimsOf(world.a.member, world.a.id),
      `insert into public.analyses (tenant_id, user_id, type, input) values ($1, $2, 'CODE_ANALYSIS', 'while (true) {}') returning id`,
      [world.a.id, world.a.member.id],
    );
    const doomed = startWorker({ WORKER_LEASE_SECONDS: '5' });
    await doomed.started;
    await until(() => chatCalls.includes('while (true) {}'), { what: 'the first worker to call the model', timeoutMs: 20_000 });
    expect((await statusOf(id)).status).toBe('PROCESSING');
    doomed.child.removeAllListeners('exit');
    doomed.child.kill('SIGKILL');

    answering = true;
    const survivor = startWorker({});
    await survivor.started;
    // The dead worker's lease runs out after 5 s; then the survivor takes the job over.
    await until(async () => (await statusOf(id)).status === 'COMPLETED', { what: 'the analysis to complete in the other worker', timeoutMs: 30_000 });
    expect(await statusOf(id)).toEqual({ status: 'COMPLETED', confidence: 0.7 });
    expect(chatCalls.filter((call) => call === 'while (true) {}')).toHaveLength(2);
    survivor.child.removeAllListeners('exit');
    const exited = new Promise<number | null>((resolve) => survivor.child.once('exit', resolve));
    survivor.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const { rows } = await db.owner.query<{ n: string }>(`select count(*)::text as n from private.jobs where payload ->> 'id' = $1 and kind = 'run_request'`, [id]);
    expect(rows[0]!.n).toBe('0');
  }, 90_000);
});
