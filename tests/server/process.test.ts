import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeGlobalID } from '@pothos/plugin-relay';
import { createClient as createSupabaseClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import { overWebSocket, type RealtimeGateway, realtimeMetric, type Received, subscribeOverSse, subscribeOverWebSocket } from '../support/realtime.ts';
import { until } from '../support/until.ts';

interface StatusEvent {
  statusChanged: { id: string; status: string };
}



// `npm start` as a user runs it: a real process on an embedded database in a fresh DATA_DIR.
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'gw-start-'));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
}

function start(env: Record<string, string>): Promise<Started> {
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...inherited, PORT: '0', DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 90_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /GraphQL at (http:\/\/\S+)\/graphql/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]!, output: () => output });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
}

function stop({ child }: Started, signal: NodeJS.Signals): Promise<number | null> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', (code) => resolve(code));
    child.kill(signal);
  });
}

const viewerQuery = (url: string, token?: string) =>
  fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query: '{ viewer { user { email } tenant { slug } role } }' }),
  });

async function mintToken(email: string, tenant?: string): Promise<string> {
  const args = ['--import', 'tsx', 'src/cli/token.ts', '--email', email, ...(tenant ? ['--tenant', tenant] : [])];
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  const { stdout } = await promisify(execFile)(process.execPath, args, { env: { ...inherited, DATA_DIR: dataDir } });
  return stdout.trim();
}

describe('npm start on the embedded database', () => {
  it('serves, stops cleanly on SIGTERM, and keeps its data for the next start', async () => {
    const first = await start({});
    expect(first.output()).toContain('demo data loaded');
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${first.url}/readyz`)).status).toBe(200);
    expect(await (await viewerQuery(first.url)).json()).toEqual({ data: { viewer: null } });
    expect(first.output()).toContain('development mode');
    const graphiql = await (await fetch(`${first.url}/graphql`, { headers: { accept: 'text/html' } })).text();
    expect(graphiql).toMatch(/Bearer ey/);
    const token = await mintToken('test@example.com');
    expect(await (await viewerQuery(first.url, token)).json()).toEqual({
      data: { viewer: { user: { email: 'test@example.com' }, tenant: { slug: 'default-organization' }, role: 'MEMBER' } },
    });
    expect(await stop(first, 'SIGTERM')).toBe(0);

    const second = await start({});
    expect(second.output()).toMatch(/migrations applied 0, already applied \d+/);
    expect(second.output()).not.toContain('demo data loaded');
    expect((await fetch(`${second.url}/readyz`)).status).toBe(200);
    // The development secret persists too, so earlier tokens stay valid.
    const again = await (await viewerQuery(second.url, await mintToken('test@example.com'))).json();
    expect(again).toMatchObject({ data: { viewer: { user: { email: 'test@example.com' } } } });
    expect(await stop(second, 'SIGINT')).toBe(0);
  });

  it('runs a requested analysis in the background to COMPLETED, tells every kind of subscriber, and search then finds it', async () => {
    const server = await start({});
    const watchers: { dispose(): void }[] = [];
    try {
      expect(server.output()).toMatch(/worker \S+ started/);
      const token = await mintToken('test@example.com');
      // The README's clients, each told of the analysis' statuses as they happen.
      const gateway = { url: server.url } as RealtimeGateway;
      const query = 'subscription { statusChanged(kinds: [ANALYSIS]) { id status } }';
      const ws = overWebSocket(gateway, token);
      const overWs = subscribeOverWebSocket<StatusEvent>(ws, query);
      const overSse = subscribeOverSse<StatusEvent>(gateway, token, query);
      const supabase = createSupabaseClient(server.url, 'anon-key', {
        auth: { persistSession: false, autoRefreshToken: false },
        realtime: { transport: WebSocket as never },
      });
      await supabase.realtime.setAuth(token);
      const supabaseStatuses: { id: string; status: string }[] = [];
      const joined = new Promise<string>((resolve) =>
        supabase
          .channel('analyses')
          .on('postgres_changes', { event: '*', schema: 'public', table: 'analyses' }, (change) => {
            const row = change.new as { id?: string; status?: string };
            if (row.id && row.status) supabaseStatuses.push({ id: row.id, status: row.status });
          })
          .subscribe((status) => status !== 'CLOSED' && resolve(status)),
      );
      watchers.push(ws, overWs, overSse, { dispose: () => void supabase.removeAllChannels() });
      expect(await joined).toBe('SUBSCRIBED');
      await until(async () => (await realtimeMetric(server.url, 'gateway_realtime_subscribers')) >= 3, { timeoutMs: 10_000 });
      const call = async <Data>(query: string, variables: Record<string, unknown> = {}) => {
        const response = await fetch(`${server.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query, variables }),
        });
        const body = (await response.json()) as { data?: Data; errors?: unknown[] };
        expect(body.errors).toBeUndefined();
        return body.data!;
      };
      const requested = await call<{ requestAnalysis: { analysis: { id: string; status: string } } }>(
        `mutation { requestAnalysis(input: { type: SENTIMENT_ANALYSIS, input: "The new dashboard is delightful and the onboarding was smooth." }) {
           ... on MutationRequestAnalysisSuccess { analysis { id status } } } }`,
      );
      const { id } = requested.requestAnalysis.analysis;
      const started = Date.now();
      type Node = { node: { status: string; result: { label?: string } | null; model: string | null; confidence: number | null; processingTimeMs: number | null } };
      let node: Node['node'] | undefined;
      while (Date.now() - started < 30_000) {
        node = (await call<Node>('query ($id: ID!) { node(id: $id) { ... on Analysis { status result model confidence processingTimeMs } } }', { id })).node;
        if (node.status === 'COMPLETED' || node.status === 'FAILED') break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(node).toMatchObject({ status: 'COMPLETED', result: { label: 'positive' } });
      expect(node!.model).toMatch(/wink/);
      // Found by meaning, in words the analysis does not use, once its embedding is written.
      let found = false;
      while (!found && Date.now() - started < 30_000) {
        const result = await call<{ search: { edges: { node: { id: string } }[] } }>(
          '{ search(input: { text: "pleasant user experience", kinds: [ANALYSIS], mode: SEMANTIC }, first: 10) { edges { node { ... on Analysis { id } } } } }',
        );
        found = result.search.edges.some((edge) => edge.node.id === id);
        if (!found) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(found).toBe(true);

      const uuid = decodeGlobalID(id).id;
      const statusesOf = (received: Received<StatusEvent>) =>
        received.events.map((event) => event.data?.statusChanged).filter((change) => change?.id === id).map((change) => change!.status);
      for (const received of [overWs, overSse]) {
        await until(() => statusesOf(received).length >= 3, { timeoutMs: 30_000 });
        expect(statusesOf(received)).toEqual(['PENDING', 'PROCESSING', 'COMPLETED']);
      }
      await until(() => supabaseStatuses.filter((row) => row.id === uuid).length >= 3, { timeoutMs: 30_000 });
      expect(supabaseStatuses.filter((row) => row.id === uuid).map((row) => row.status)).toEqual(['PENDING', 'PROCESSING', 'COMPLETED']);
    } finally {
      for (const watcher of watchers) watcher.dispose();
      expect(await stop(server, 'SIGTERM')).toBe(0);
    }
  }, 120_000);

  it('refuses to start with a clear message when configuration is invalid', async () => {
    await expect(start({ PORT: 'eighty' })).rejects.toThrow(/PORT must be an integer from 0 to 65535, got "eighty"/);
  });
});
