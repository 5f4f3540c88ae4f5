import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { decodeGlobalID } from '@pothos/plugin-relay';
import { type Client, createClient } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { signDevToken } from '../src/auth/dev-token.ts';
import type { Database } from '../src/db/database.ts';
import { SECRET, serverTarget, startServer, stopServer } from './harness.ts';

// `npm run bench:realtime`: realtime delivery at load, on one gateway process. BENCH_SUBSCRIBERS
// graphql-ws clients (one WebSocket each) follow BENCH_TENANTS tenants evenly, each a member of
// its tenant (a quarter of them VIEWERs); a writer commits BENCH_RATE status changes per second
// (analyses created PENDING, then PROCESSING, then COMPLETED), spread over the tenants, for
// BENCH_SECONDS, after BENCH_WARMUP_SECONDS of the same writes. Delivery time is from the
// writer's COMMIT returning to the client receiving the event; the warm-up's (a process just
// started compiles its delivery path under load) is reported apart from the measured window's. Every event is checked against the tenant it belongs to, and every subscriber against
// the changes of its tenant (missed events). Database work per change comes from two sides: the
// gateway's own counters (/metrics: rows read per change) and the server's (transactions
// committed in the database beyond the writer's). Needs PostgreSQL: DATABASE_URL, a superuser URL
// (a throwaway database is created and dropped). The gateway runs as `npm start` in its own process.
const SUBSCRIBERS = Number(process.env.BENCH_SUBSCRIBERS ?? 5_000);
const TENANTS = Number(process.env.BENCH_TENANTS ?? 50);
const RATE = Number(process.env.BENCH_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
/** Connections the writer commits on, so one slow commit does not hold the schedule back. */
const WRITERS = Number(process.env.BENCH_WRITERS ?? 8);
/** Sockets opened at once while subscribing. */
const CONNECT_BATCH = 200;
/** `lean` (the default): the protocol spoken directly over ws; `graphql-ws`: its client library. */
const CLIENT = process.env.BENCH_CLIENT ?? 'lean';

const SUBSCRIPTION = `subscription { statusChanged { id status previousStatus node { ... on Analysis { status } } } }`;

interface Member {
  tenantId: string;
  userId: string;
  email: string;
}

interface Subscriber {
  member: Member;
  /** Closes the client. */
  close: () => void | Promise<void>;
  received: number;
  foreign: number;
}

/** 50 tenants with members enough for every subscriber, as the owner; their limits out of the way. */
async function seedTenants(owner: Database): Promise<{ tenants: string[]; members: Member[] }> {
  const perTenant = Math.ceil(SUBSCRIBERS / TENANTS);
  const { rows: tenants } = await owner.query<{ id: string }>(
    `insert into public.tenants (name, slug, max_users, max_api_calls_per_month)
     select 'Realtime ' || i, 'realtime-' || i, $2, 2000000000 from generate_series(1, $1) i returning id`,
    [TENANTS, perTenant + 10],
  );
  await owner.query(
    `insert into public.tenant_settings (tenant_id, key, value)
     select id, 'limits.requests_per_minute', '1000000000' from unnest($1::uuid[]) id`,
    [tenants.map((tenant) => tenant.id)],
  );
  await owner.query(
    `insert into auth.users (id, email, email_confirmed_at)
     select gen_random_uuid(), 'rt-' || t.ord || '-' || u || '@bench.test', now()
     from unnest($1::uuid[]) with ordinality t(id, ord), generate_series(1, $2) u`,
    [tenants.map((tenant) => tenant.id), perTenant],
  );
  const { rows: members } = await owner.query<{ tenantId: string; userId: string; email: string }>(
    `insert into public.tenant_users (tenant_id, user_id, role)
     select t.id, u.id, case when u.n % 4 = 0 then 'VIEWER' else 'MEMBER' end::public.tenant_role
     from unnest($1::uuid[]) with ordinality t(id, ord)
     join (select id, email, split_part(email, '-', 2)::int as ord, split_part(split_part(email, '-', 3), '@', 1)::int as n
           from public.users where email like 'rt-%@bench.test') u on u.ord = t.ord
     returning tenant_id as "tenantId", user_id as "userId", (select email from public.users where id = user_id) as email`,
    [tenants.map((tenant) => tenant.id)],
  );
  return { tenants: tenants.map((tenant) => tenant.id), members };
}

type OnEvent = (id: string, status: string) => void;

function connect(url: string, member: Member, token: string, onEvent: OnEvent): Promise<Subscriber> {
  return CLIENT === 'graphql-ws' ? connectGraphqlWs(url, member, token, onEvent) : connectLean(url, member, token, onEvent);
}

/** The graphql-ws client, as an application runs it. */
function connectGraphqlWs(url: string, member: Member, token: string, onEvent: OnEvent): Promise<Subscriber> {
  const subscriber: Subscriber = { member, received: 0, foreign: 0, close: () => undefined };
  return new Promise((resolve, reject) => {
    const client: Client = createClient({
      url: `${url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
      lazy: false,
      on: { connected: () => resolve(subscriber) },
      onNonLazyError: reject,
    });
    subscriber.close = () => client.dispose();
    client.subscribe<{ statusChanged: { id: string; status: string } }>(
      { query: SUBSCRIPTION },
      {
        next: ({ data, errors }) => {
          if (errors?.length || !data) throw new Error(`subscription error: ${JSON.stringify(errors)}`);
          subscriber.received += 1;
          onEvent(decodeGlobalID(data.statusChanged.id).id, data.statusChanged.status);
        },
        error: (error) => console.error('subscription ended with an error', error),
        complete: () => undefined,
      },
    );
  });
}

/**
 * The same protocol (graphql-transport-ws) spoken directly over ws: connection_init with the
 * token, one subscribe, then `next` messages. What it saves the load generator per message is
 * CPU the gateway shares on a small machine.
 */
function connectLean(url: string, member: Member, token: string, onEvent: OnEvent): Promise<Subscriber> {
  const socket = new WebSocket(`${url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
  const subscriber: Subscriber = { member, received: 0, foreign: 0, close: () => socket.close(1000) };
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; payload?: { data?: { statusChanged: { id: string; status: string } }; errors?: unknown } };
      if (message.type === 'connection_ack') {
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: SUBSCRIPTION } }));
        resolve(subscriber);
      } else if (message.type === 'next') {
        const change = message.payload?.data?.statusChanged;
        if (!change) return console.error('subscription error', JSON.stringify(message.payload?.errors));
        subscriber.received += 1;
        onEvent(decodeGlobalID(change.id).id, change.status);
      } else if (message.type === 'ping') {
        socket.send('{"type":"pong"}');
      } else if (message.type === 'error' || message.type === 'complete') {
        console.error('subscription ended', String(data));
      }
    });
  });
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : NaN;
}

async function main() {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('bench:realtime needs PostgreSQL: set DATABASE_URL to a superuser URL');
  let seeded: { tenants: string[]; members: Member[] } | undefined;
  const target = await serverTarget(url, async (owner) => {
    seeded = await seedTenants(owner);
  });
  const { tenants, members } = seeded!;
  const ownerUrl = target.env.MIGRATION_DATABASE_URL!;
  const { child, url: gateway } = await startServer({ ...target.env, WORKER_ENABLED: 'false', METRICS_ENABLED: 'true' });
  const writers = new pg.Pool({ connectionString: ownerUrl, max: WRITERS });
  const stats = new pg.Client({ connectionString: ownerUrl });
  await stats.connect();
  try {
    // The tenant of every row the writer creates, and when each of its changes committed.
    const tenantOfRow = new Map<string, string>();
    const committedAt = new Map<string, number>();
    const arrivals: { key: string; at: number }[] = [];

    console.log(`subscribing ${SUBSCRIBERS} graphql-ws clients over ${TENANTS} tenants…`);
    const chosen = Array.from({ length: SUBSCRIBERS }, (_, i) => members.filter((m) => m.tenantId === tenants[i % TENANTS])[Math.floor(i / TENANTS)]!);
    const subscribers: Subscriber[] = [];
    const subscribeStarted = performance.now();
    for (let i = 0; i < chosen.length; i += CONNECT_BATCH) {
      const batch = chosen.slice(i, i + CONNECT_BATCH);
      subscribers.push(
        ...(await Promise.all(
          batch.map(async (member) => {
            const token = await signDevToken(SECRET, { id: member.userId, email: member.email, defaultTenantId: member.tenantId, tenants: [] });
            const subscriber: Subscriber = await connect(gateway, member, token, (id, status) => {
              const tenant = tenantOfRow.get(id);
              if (tenant !== undefined && tenant !== member.tenantId) subscriber.foreign += 1;
              arrivals.push({ key: `${id}:${status}`, at: performance.now() });
            });
            return subscriber;
          }),
        )),
      );
    }
    // Connected is not subscribed: wait until the gateway holds every subscription.
    while ((await metric(gateway, 'gateway_realtime_subscribers')) < SUBSCRIBERS) await new Promise((r) => setTimeout(r, 200));
    console.log(`subscribed in ${((performance.now() - subscribeStarted) / 1000).toFixed(1)} s`);

    const before = {
      changes: await metric(gateway, 'gateway_realtime_changes_total'),
      reads: await metric(gateway, 'gateway_realtime_reads_total'),
      commits: await commits(stats),
    };
    const writerOfTenant = new Map(tenants.map((tenant) => [tenant, members.find((m) => m.tenantId === tenant)!.userId]));
    const lifecycle: { id: string; tenant: string; next: 'PROCESSING' | 'COMPLETED' }[] = [];
    let tenantTurn = 0;
    let writes = 0;
    const change = async (): Promise<void> => {
      // Advance a row already created when there is one, else create one in the next tenant.
      const row = lifecycle.length > TENANTS ? lifecycle.shift()! : undefined;
      if (row) {
        await writers.query('update public.analyses set status = $2 where id = $1', [row.id, row.next]);
        committedAt.set(`${row.id}:${row.next}`, performance.now());
        if (row.next === 'PROCESSING') lifecycle.push({ ...row, next: 'COMPLETED' });
        return;
      }
      const tenant = tenants[tenantTurn++ % TENANTS]!;
      // The id is the writer's, known before the commit, so an event can never arrive for an unknown row.
      const id = randomUUID();
      tenantOfRow.set(id, tenant);
      await writers.query(
        `insert into public.analyses (id, tenant_id, user_id, type, input) values ($1, $2, $3, 'TEXT_ANALYSIS', 'realtime bench')`,
        [id, tenant, writerOfTenant.get(tenant)],
      );
      committedAt.set(`${id}:PENDING`, performance.now());
      lifecycle.push({ id, tenant, next: 'PROCESSING' });
    };

    console.log(`writing ${RATE} changes/s for ${WARMUP_SECONDS} s of warm-up, then ${SECONDS} s measured…`);
    const warmupWrites = RATE * WARMUP_SECONDS;
    let cpuBefore: Promise<number> = metric(gateway, 'process_cpu_seconds_total');
    const warmupStarted = performance.now();
    const started = warmupStarted + WARMUP_SECONDS * 1000;
    const total = warmupWrites + RATE * SECONDS;
    const inFlight = new Set<Promise<void>>();
    let late = 0;
    for (let i = 0; i < total; i++) {
      const due = warmupStarted + (i * 1000) / RATE;
      if (i === warmupWrites) cpuBefore = metric(gateway, 'process_cpu_seconds_total');
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      else if (wait < -100) late += 1;
      // A row's next change waits for its previous one; otherwise changes overlap as real writers' do.
      while (inFlight.size >= WRITERS) await Promise.race(inFlight);
      const done: Promise<void> = change().finally(() => inFlight.delete(done));
      inFlight.add(done);
      writes += 1;
    }
    await Promise.all(inFlight);
    const writeSeconds = (performance.now() - warmupStarted) / 1000;
    const rssMb = (await metric(gateway, 'process_resident_memory_bytes')) / 2 ** 20;
    // Let the last events arrive.
    const expectedPerTenant = new Map<string, number>();
    for (const key of committedAt.keys()) {
      const tenant = tenantOfRow.get(key.split(':')[0]!)!;
      expectedPerTenant.set(tenant, (expectedPerTenant.get(tenant) ?? 0) + 1);
    }
    const expected = subscribers.reduce((sum, s) => sum + (expectedPerTenant.get(s.member.tenantId) ?? 0), 0);
    const drainUntil = performance.now() + 30_000;
    while (arrivals.length < expected && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 100));
    // The gateway's CPU from the end of the warm-up to the last delivery: steadier than the tail of
    // delivery on a shared machine, where the load generator and the database share its cores.
    const gatewayCpu = (await metric(gateway, 'process_cpu_seconds_total')) - (await cpuBefore);
    const after = {
      changes: await metric(gateway, 'gateway_realtime_changes_total'),
      reads: await metric(gateway, 'gateway_realtime_reads_total'),
      commits: await commits(stats),
    };

    const warmup: number[] = [];
    const latencies: number[] = [];
    for (const { key, at } of arrivals) {
      const committed = committedAt.get(key);
      if (committed !== undefined) (committed < started ? warmup : latencies).push(at - committed);
    }
    warmup.sort((a, b) => a - b);
    latencies.sort((a, b) => a - b);
    const spread = (sorted: number[]) =>
      `p50 ${percentile(sorted, 50).toFixed(1)} ms, p95 ${percentile(sorted, 95).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, max ${sorted.at(-1)?.toFixed(1)} ms`;
    const missed = subscribers.reduce((sum, s) => sum + Math.max(0, (expectedPerTenant.get(s.member.tenantId) ?? 0) - s.received), 0);
    const foreign = subscribers.reduce((sum, s) => sum + s.foreign, 0);
    const changes = after.changes - before.changes;
    // The writer commits one transaction per change, and the two readings of the statistics one each.
    const gatewayTransactions = after.commits - before.commits - writes - 2;
    console.log('');
    console.log(`subscribers                 ${SUBSCRIBERS} (${TENANTS} tenants, ${SUBSCRIBERS / TENANTS} each, a quarter VIEWERs), one gateway process, ${CLIENT} clients`);
    console.log(`changes committed           ${writes} in ${writeSeconds.toFixed(1)} s = ${(writes / writeSeconds).toFixed(0)} changes/s (${late} started over 100 ms late)`);
    console.log(`events delivered            ${arrivals.length} of ${expected} expected`);
    console.log(`delivery (commit -> client) ${spread(latencies)} (${latencies.length} events, the last ${SECONDS} s of writes)`);
    console.log(`  during the warm-up        ${spread(warmup)} (${warmup.length} events, the first ${WARMUP_SECONDS} s)`);
    console.log(`gateway RSS                 ${rssMb.toFixed(0)} MB at the end of the writes`);
    console.log(`gateway CPU                 ${gatewayCpu.toFixed(1)} s from the end of the warm-up to the last delivery, ${((gatewayCpu * 1e6) / latencies.length).toFixed(1)} µs per delivery`);
    console.log(`cross-tenant deliveries     ${foreign}`);
    console.log(`missed events               ${missed}`);
    console.log(`rows read per change        ${((after.reads - before.reads) / changes).toFixed(3)} (gateway: ${after.reads - before.reads} reads for ${changes} changes)`);
    console.log(`gateway transactions/change ${(gatewayTransactions / writes).toFixed(3)} (pg_stat_database commits beyond the writer's)`);
    for (const subscriber of subscribers) await subscriber.close();
  } finally {
    await writers.end();
    await stats.end();
    await stopServer(child);
    await target.cleanup();
  }
}

/**
 * Transactions committed in the bench database so far. A busy backend reports its counts at most
 * once a second and an idle one within ten: wait those out, so that no earlier work (subscribing
 * authorises each subscriber in a transaction) lands in the measured window.
 */
async function commits(client: pg.Client): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 11_000));
  await client.query('select pg_stat_force_next_flush()');
  const { rows } = await client.query<{ commits: string }>('select xact_commit as commits from pg_stat_database where datname = current_database()');
  return Number(rows[0]!.commits);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
