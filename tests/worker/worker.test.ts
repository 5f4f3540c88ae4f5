import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { localProvider } from '../../src/ai/local.ts';
import { openAiProvider } from '../../src/ai/openai.ts';
import { EMBEDDING_DIMENSIONS } from '../../src/ai/provider.ts';
import { queueBackfill } from '../../src/worker/backfill.ts';
import { Worker } from '../../src/worker/worker.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createTestGateway } from '../support/gateway.ts';
import { creditBalance, grantCredits } from '../support/ledger.ts';
import { as, claimsOf, createWorld, insertRow, SERVICE, type World } from '../support/world.ts';

// The background work end to end: a request made through the API (or straight through the
// Data API) is queued by the database, run by the worker as service_role, and lands COMPLETED
// with a real result, or FAILED with its credits back exactly once.
let db: TestDatabase;
let world: World;
let api: ReturnType<typeof createTestGateway>;
const local = localProvider();

// An OpenAI-compatible service whose answers each test decides.
let service: Server;
let baseUrl: string;
let answer: (body: { messages?: { content: string }[]; input?: string[] }, response: ServerResponse) => void;
const chatCalls: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
  api = createTestGateway(db, { ai: local });
  service = createServer((request: IncomingMessage, response: ServerResponse) => {
    let raw = '';
    request.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    request.on('end', () => {
      const body = JSON.parse(raw) as { messages?: { content: string }[]; input?: string[] };
      if (body.input) {
        // Embeddings always answer: the tests below are about requests.
        const data = body.input.map((text, index) => ({ index, embedding: Array.from({ length: EMBEDDING_DIMENSIONS }, (_, n) => (n === text.length % EMBEDDING_DIMENSIONS ? 1 : 0.01)) }));
        json(response, 200, { data, model: 'embed-test' });
        return;
      }
      if (body.messages) chatCalls.push(body.messages[1]!.content);
      answer(body, response);
    });
  });
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(service.address() as AddressInfo).port}/v1`;
  await local.ready();
}, 180_000);
afterAll(async () => {
  await new Promise((resolve) => service?.close(resolve));
  await db?.close();
});
beforeEach(async () => {
  await db.owner.query('delete from private.jobs');
  chatCalls.length = 0;
});

const json = (response: ServerResponse, status: number, body: unknown) => {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
};
const chatAnswer = (content: string) => (_body: unknown, response: ServerResponse) =>
  json(response, 200, { model: 'chat-test', choices: [{ message: { role: 'assistant', content } }] });
const remote = (timeoutMs = 2_000) => openAiProvider({ baseUrl, embeddingModel: 'embed-test', chatModel: 'chat-test', timeoutMs });

const REQUEST = `mutation ($input: RequestAnalysisInput!) {
  requestAnalysis(input: $input) {
    ... on MutationRequestAnalysisSuccess { analysis { id status } }
    ... on MutationError { code message }
  }
}`;

/** Requests an analysis through the API as tenant a's member, who is given the credits for it. */
async function requestAnalysis(type: string, input: string): Promise<string> {
  await grantCredits(db.owner, world.a.id, world.a.member.id, 100);
  const response = await api.as<{ requestAnalysis: { analysis?: { id: string; status: string } } }>(world.a.member, world.a.id, REQUEST, { input: { type, input } });
  expect(response.body.errors).toBeUndefined();
  const analysis = response.body.data!.requestAnalysis.analysis!;
  expect(analysis.status).toBe('PENDING');
  return Buffer.from(analysis.id, 'base64').toString().split(':')[1]!;
}

interface Row {
  status: string;
  result: Record<string, unknown> | null;
  model: string | null;
  confidence: number | null;
  processing_time_ms: number | null;
  credits_cost: number;
  has_embedding: boolean;
  embedding_model: string | null;
}
const analysis = (id: string) =>
  db.owner
    .query<Row>(
      `select status, result, model, confidence, processing_time_ms, credits_cost, embedding is not null as has_embedding, embedding_model
       from public.analyses where id = $1`,
      [id],
    )
    .then(({ rows }) => rows[0]!);
const jobsFor = (id: string) =>
  db.owner
    .query<{ kind: string; attempts: number; dead: boolean; last_error: string | null }>(
      `select kind, attempts, dead_at is not null as dead, last_error from private.jobs where payload ->> 'id' = $1 order by id`,
      [id],
    )
    .then(({ rows }) => rows);
const refunds = (id: string) =>
  db.owner
    .query<{ amount: number }>(`select amount from public.credit_transactions where kind = 'REFUND' and metadata ->> 'refundOf' = $1`, [`analyses:${id}`])
    .then(({ rows }) => rows.map((row) => row.amount));
const makeDue = () => db.owner.query('update private.jobs set run_at = now() where dead_at is null');

describe('the worker with the local provider', () => {
  it('moves a requested sentiment analysis PENDING -> PROCESSING -> COMPLETED with a real result, then embeds it for search', async () => {
    const id = await requestAnalysis('SENTIMENT_ANALYSIS', 'I love this product, the support team was wonderful and quick.');
    expect((await jobsFor(id)).map((job) => job.kind).sort()).toEqual(['embed', 'run_request']);
    const worker = new Worker({ db: db.gateway, provider: local });
    expect(await worker.drain()).toBeGreaterThanOrEqual(2);
    const row = await analysis(id);
    expect(row.status).toBe('COMPLETED');
    expect(row.result!.label).toBe('positive');
    expect(Number(row.result!.sentiment)).toBeGreaterThan(0.3);
    expect(row.model).toBe(local.analysisModel);
    expect(row.confidence).toBeGreaterThan(0.5);
    expect(row.processing_time_ms).toBeGreaterThanOrEqual(0);
    // The result's text changed the analysis, so it was embedded again, by the configured model.
    expect(row.has_embedding).toBe(true);
    expect(row.embedding_model).toBe(local.embeddingModel);
    expect(await jobsFor(id)).toEqual([]);
    expect(await refunds(id)).toEqual([]);
    const found = await api.as<{ search: { edges: { node: { id: string } }[] } }>(
      world.a.member,
      world.a.id,
      `query { search(input: { text: "happy customer praising the helpdesk", mode: SEMANTIC, kinds: [ANALYSIS] }, first: 5) { edges { node { ... on Analysis { id } } } } }`,
    );
    expect(found.body.errors).toBeUndefined();
    expect(found.body.data!.search.edges.map((edge) => Buffer.from(edge.node.id, 'base64').toString())).toContain(`Analysis:${id}`);
  });

  it('fails an analysis type it cannot do, names the setting, and refunds its credits exactly once', async () => {
    const before = await creditBalance(db.owner, world.a.id, world.a.member.id);
    const id = await requestAnalysis('IMAGE_ANALYSIS', 'a photo of a harbour');
    const charged = (await analysis(id)).credits_cost;
    expect(charged).toBe(30);
    await new Worker({ db: db.gateway, provider: local }).drain();
    const row = await analysis(id);
    expect(row.status).toBe('FAILED');
    expect(String(row.result!.error)).toContain('AI_PROVIDER=openai');
    expect(await refunds(id)).toEqual([30]);
    expect(await creditBalance(db.owner, world.a.id, world.a.member.id)).toBe(before + 100);
    // FAILED is final, and a second refund of the same request is refused by the ledger itself.
    await expect(as(db.gateway, SERVICE, `update public.analyses set status = 'PROCESSING' where id = $1`, [id])).rejects.toThrow(/cannot move/);
    await expect(
      db.owner.query(`select private.append_credit_entry($1, $2, 30, 'REFUND', 'again', jsonb_build_object('refundOf', $3::text))`, [
        world.a.id,
        world.a.member.id,
        `analyses:${id}`,
      ]),
    ).rejects.toThrow(/duplicate key/);
  });

  it('queues work for rows written straight through the Data API, not only through the gateway', async () => {
    await grantCredits(db.owner, world.a.id, world.a.member.id, 100);
    const [{ id } = { id: '' }] = await as<{ id: string }>(
      db.gateway,
      claimsOf(world.a.member, world.a.id),
      `insert into public.analyses (tenant_id, user_id, type, input) values ($1, $2, 'TEXT_ANALYSIS', 'Quarterly revenue grew in Berlin.') returning id`,
      [world.a.id, world.a.member.id],
    );
    expect((await jobsFor(id)).map((job) => job.kind).sort()).toEqual(['embed', 'run_request']);
    await new Worker({ db: db.gateway, provider: local }).drain();
    const row = await analysis(id);
    expect(row.status).toBe('COMPLETED');
    expect(Array.isArray(row.result!.keywords)).toBe(true);
  });

  it('embeds a post when it is written and again when its text changes, without an audit entry for the vector', async () => {
    const post = await insertRow(db.owner, 'posts', { tenant_id: world.a.id, author_id: world.a.owner.id, title: 'Harbour cranes', slug: 'cranes', content: 'Cranes unload ships.' });
    const worker = new Worker({ db: db.gateway, provider: local });
    await worker.drain();
    const vectorOf = async () =>
      (await db.owner.query<{ v: string | null; m: string | null }>('select embedding::text as v, embedding_model as m from public.posts where id = $1', [post])).rows[0]!;
    const first = await vectorOf();
    expect(first.m).toBe(local.embeddingModel);
    expect(JSON.parse(first.v!)).toHaveLength(EMBEDDING_DIMENSIONS);
    const audited = async () =>
      Number((await db.owner.query<{ n: string }>(`select count(*)::text as n from public.audit_logs where table_name = 'posts' and row_id = $1`, [post])).rows[0]!.n);
    const entries = await audited();
    await db.owner.query(`update public.posts set content = 'Gardens grow tomatoes and beans.' where id = $1`, [post]);
    expect(await audited()).toBe(entries + 1);
    await worker.drain();
    const second = await vectorOf();
    expect(second.v).not.toBe(first.v);
    // The embedding writes themselves left no trace in the audit trail.
    expect(await audited()).toBe(entries + 1);
  });
});

describe('embeddings backfill', () => {
  it('re-embeds the rows of another model, or of none, and leaves the current ones alone', async () => {
    const stale = await insertRow(db.owner, 'posts', {
      tenant_id: world.b.id, author_id: world.b.owner.id, title: 'Old model', slug: 'old-model', embedding_model: 'retired-model',
      embedding: `[${Array.from({ length: EMBEDDING_DIMENSIONS }, (_, n) => (n === 0 ? 1 : 0)).join(',')}]`,
    });
    const worker = new Worker({ db: db.gateway, provider: local });
    await worker.drain();
    const queued = await queueBackfill(db.gateway, local.embeddingModel);
    expect(queued.posts).toBe(1);
    // Queuing again adds nothing while the job waits.
    await queueBackfill(db.gateway, local.embeddingModel);
    expect(await jobsFor(stale)).toHaveLength(1);
    await worker.drain();
    const { rows } = await db.owner.query<{ m: string }>('select embedding_model as m from public.posts where id = $1', [stale]);
    expect(rows[0]!.m).toBe(local.embeddingModel);
    expect(await queueBackfill(db.gateway, local.embeddingModel)).toEqual({ posts: 0, analyses: 0 });
  });
});

describe('the worker with an OpenAI-compatible service', () => {
  it('retries a failing service with backoff, then fails the request and refunds it', async () => {
    answer = (_body, response) => json(response, 500, { error: 'overloaded' });
    const id = await requestAnalysis('CODE_ANALYSIS', 'function f() { return 1 }');
    await db.owner.query(`update private.jobs set max_attempts = 3 where payload ->> 'id' = $1 and kind = 'run_request'`, [id]);
    const worker = new Worker({ db: db.gateway, provider: remote() });
    await worker.drain();
    let [job] = (await jobsFor(id)).filter((entry) => entry.kind === 'run_request');
    expect(job).toMatchObject({ attempts: 1, dead: false });
    expect(job!.last_error).toContain('HTTP 500');
    expect((await analysis(id)).status).toBe('PROCESSING');
    // A retry waits its backoff: nothing is due until it has passed.
    expect(await worker.drain()).toBe(0);
    await makeDue();
    await worker.drain();
    await makeDue();
    await worker.drain();
    [job] = (await jobsFor(id)).filter((entry) => entry.kind === 'run_request');
    expect(job).toMatchObject({ attempts: 3, dead: true });
    const row = await analysis(id);
    expect(row.status).toBe('FAILED');
    expect(String(row.result!.error)).toContain('HTTP 500');
    expect(await refunds(id)).toEqual([20]);
    expect(chatCalls).toHaveLength(3);
  });

  it('treats a timeout and a malformed answer as retryable, and completes once the service answers', async () => {
    const id = await requestAnalysis('DATA_ANALYSIS', 'sales by month: 3, 5, 8');
    const worker = new Worker({ db: db.gateway, provider: remote(200) });
    answer = () => undefined; // never answers
    await worker.drain();
    expect((await jobsFor(id)).find((job) => job.kind === 'run_request')!.last_error).toContain('no answer within 200 ms');
    answer = chatAnswer('this is not JSON');
    await makeDue();
    await worker.drain();
    expect((await jobsFor(id)).find((job) => job.kind === 'run_request')!.last_error).toContain('JSON');
    answer = chatAnswer('```json\n{"summary": "Sales grow each month.", "findings": ["growth"], "details": {}, "confidence": 0.8}\n```');
    await makeDue();
    await worker.drain();
    const row = await analysis(id);
    expect(row).toMatchObject({ status: 'COMPLETED', model: 'chat-test', confidence: 0.8 });
    expect(row.result!.summary).toBe('Sales grow each month.');
    expect(await refunds(id)).toEqual([]);
  });

  it('leaves the job of a worker that died mid-run to another, which finishes it once', async () => {
    answer = chatAnswer('{"summary": "fine", "findings": [], "details": {}, "confidence": 0.5}');
    const id = await requestAnalysis('CODE_ANALYSIS', 'let x = 1');
    // A worker claims the job with a short lease, marks it PROCESSING, and dies.
    const claimed = await as<{ id: string }>(db.gateway, SERVICE, `select id::text as id from private.claim_jobs('dead-worker', 10, '1 second')`);
    expect(claimed).toHaveLength(2);
    await as(db.gateway, SERVICE, `update public.analyses set status = 'PROCESSING' where id = $1`, [id]);
    const survivor = new Worker({ db: db.gateway, provider: remote() });
    expect(await survivor.drain()).toBe(0); // still leased
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(await survivor.drain()).toBeGreaterThanOrEqual(2);
    expect(await analysis(id)).toMatchObject({ status: 'COMPLETED', confidence: 0.5 });
    // The dead worker's late completion is refused: its lease is gone.
    for (const job of claimed) {
      expect((await as<{ ok: boolean }>(db.gateway, SERVICE, `select private.complete_job($1, 'dead-worker') as ok`, [job.id]))[0]!.ok).toBe(false);
    }
    expect(chatCalls).toHaveLength(1);
    expect(await jobsFor(id)).toEqual([]);
  });

  it.runIf(Boolean(process.env.DATABASE_URL))('runs each of many jobs once with several workers at the same time', async () => {
    answer = (body, response) =>
      setTimeout(() => chatAnswer('{"summary": "ok", "findings": [], "details": {}, "confidence": 0.9}')(body, response), 20);
    const ids: string[] = [];
    for (let n = 0; n < 12; n += 1) ids.push(await requestAnalysis('CODE_ANALYSIS', `program number ${n}`));
    const workers = [1, 2, 3].map((n) => new Worker({ db: db.gateway, provider: remote(), concurrency: 3, id: `parallel-${n}` }));
    await Promise.all(workers.map((worker) => worker.drain()));
    for (const id of ids) expect((await analysis(id)).status).toBe('COMPLETED');
    expect(chatCalls.filter((call) => call.startsWith('program number')).sort()).toEqual(ids.map((_, n) => `program number ${n}`).sort());
  });
});
