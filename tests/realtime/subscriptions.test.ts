import { once } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createTestDatabase, serverUrl, type TestDatabase } from '../support/database.ts';
import { MAX_SUBSCRIPTIONS_PER_USER } from '../../src/realtime/hub.ts';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { serviceToken, TEST_ISSUER, TEST_SECRET, tokenFor } from '../support/gateway.ts';
import { as, createWorld, insertRow, SERVICE, type World } from '../support/world.ts';
import {
  overWebSocket,
  type RealtimeGateway,
  type Received,
  startRealtimeGateway,
  subscribeOverSse,
  subscribeOverWebSocket,
} from '../support/realtime.ts';
import { until } from '../support/until.ts';

// statusChanged over both transports, as real clients (graphql-ws, graphql-sse) on a real port.
let db: TestDatabase;
let world: World;
let gateway: RealtimeGateway;
const open: { dispose(): void }[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
  gateway = await startRealtimeGateway(db);
});
afterEach(async () => {
  for (const item of open.splice(0)) item.dispose();
  await until(() => gateway.hub.stats.subscribers === 0);
});
afterAll(async () => {
  await gateway?.close();
  await db?.close();
});

const STATUS_CHANGED = `subscription ($kinds: [StatusKind!], $projectId: ID) {
  statusChanged(kinds: $kinds, projectId: $projectId) {
    kind operation id status previousStatus at
    node { __typename ... on Analysis { id status input } ... on Upload { id filename } }
  }
}`;

interface StatusChanged {
  statusChanged: {
    kind: string;
    operation: string;
    id: string;
    status: string | null;
    previousStatus: string | null;
    at: string;
    node: { __typename: string; id: string; status?: string; input?: string } | null;
  };
}

/** A member's token that expires in `seconds`. */
const expiringToken = (user: World['outsider'], tenantId: string, seconds: number) =>
  new SignJWT({ role: 'authenticated', app_metadata: { tenant_id: tenantId } })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(user.id)
    .setIssuer(TEST_ISSUER)
    .setAudience('authenticated')
    .setExpirationTime(Math.floor(Date.now() / 1000) + seconds)
    .sign(new TextEncoder().encode(TEST_SECRET));

const kept = <T extends { dispose(): void }>(value: T): T => (open.push(value), value);

async function subscribed(count: number): Promise<void> {
  await until(() => gateway.hub.stats.subscribers >= count);
}

const analysisOf = (tenantId: string, userId: string, extra: Record<string, unknown> = {}) =>
  insertRow(db.owner, 'analyses', { tenant_id: tenantId, user_id: userId, type: 'TEXT_ANALYSIS', input: 'watched text', ...extra });

const setStatus = (table: string, id: string, status: string) =>
  as(db.gateway, SERVICE, `update public.${table} set status = $2 where id = $1`, [id, status]);

const statuses = (received: Received<StatusChanged>) =>
  received.events.map((event) => {
    const change = event.data?.statusChanged;
    return change ? `${change.operation} ${change.previousStatus ?? '-'}->${change.status ?? '-'}` : event.errors?.[0]?.extensions?.code;
  });

describe('statusChanged', () => {
  it('delivers the same changes over WebSocket and SSE, with the row as the subscriber reads it', async () => {
    const token = await tokenFor(world.a.member, world.a.id);
    const ws = kept(overWebSocket(gateway, token));
    const overWs = kept(subscribeOverWebSocket<StatusChanged>(ws, STATUS_CHANGED));
    const overSse = kept(subscribeOverSse<StatusChanged>(gateway, token, STATUS_CHANGED));
    await subscribed(2);

    const id = await analysisOf(world.a.id, world.a.member.id);
    await setStatus('analyses', id, 'PROCESSING');
    await setStatus('analyses', id, 'COMPLETED');
    // The node is the row as read when the change is delivered: let COMPLETED be read before the row goes.
    for (const received of [overWs, overSse]) await until(() => received.events.length >= 3);
    await db.owner.query('delete from public.analyses where id = $1', [id]);

    for (const received of [overWs, overSse]) {
      await until(() => received.events.length >= 4);
      expect(statuses(received)).toEqual(['INSERT -->PENDING', 'UPDATE PENDING->PROCESSING', 'UPDATE PROCESSING->COMPLETED', 'DELETE COMPLETED->-']);
      const [created, , completed, deleted] = received.events.map((event) => event.data!.statusChanged);
      expect(created).toMatchObject({ kind: 'ANALYSIS', id: encodeGlobalID('Analysis', id) });
      expect(completed!.node).toEqual({ __typename: 'Analysis', id: encodeGlobalID('Analysis', id), status: 'COMPLETED', input: 'watched text' });
      expect(new Date(completed!.at).getTime()).toBeGreaterThan(Date.now() - 60_000);
      expect(deleted!.node).toBeNull();
    }
  });

  it("never delivers another tenant's changes; a VIEWER receives its own tenant's", async () => {
    const outsider = kept(subscribeOverSse<StatusChanged>(gateway, await tokenFor(world.b.owner, world.b.id), STATUS_CHANGED));
    const viewer = kept(subscribeOverSse<StatusChanged>(gateway, await tokenFor(world.a.viewer, world.a.id), STATUS_CHANGED));
    await subscribed(2);
    const id = await analysisOf(world.a.id, world.a.member.id);
    await setStatus('analyses', id, 'PROCESSING');
    await until(() => viewer.events.length >= 2);
    // The change for tenant b's subscriber would have been delivered along with the viewer's.
    const marker = await analysisOf(world.b.id, world.b.owner.id);
    await until(() => outsider.events.length >= 1);
    expect(outsider.events.map((event) => event.data?.statusChanged.id)).toEqual([encodeGlobalID('Analysis', marker)]);
    expect(statuses(viewer)).toEqual(['INSERT -->PENDING', 'UPDATE PENDING->PROCESSING']);
  });

  it('filters by kind and project', async () => {
    const token = await tokenFor(world.a.member, world.a.id);
    const projectId = await insertRow(db.owner, 'projects', { tenant_id: world.a.id, user_id: world.a.member.id, name: 'watched' });
    const uploadsOnly = kept(subscribeOverSse<StatusChanged>(gateway, token, STATUS_CHANGED, { kinds: ['UPLOAD'] }));
    const inProject = kept(
      subscribeOverSse<StatusChanged>(gateway, token, STATUS_CHANGED, { projectId: encodeGlobalID('Project', projectId) }),
    );
    await subscribed(2);
    await analysisOf(world.a.id, world.a.member.id);
    const inside = await analysisOf(world.a.id, world.a.member.id, { project_id: projectId });
    const upload = await insertRow(db.owner, 'uploads', {
      tenant_id: world.a.id,
      user_id: world.a.member.id,
      filename: 'f.txt',
      original_name: 'f.txt',
      path: `${world.a.id}/f.txt`,
      size_bytes: 3,
      mime_type: 'text/plain',
    });
    await db.owner.query('delete from public.analyses where id = $1', [inside]);
    await until(() => uploadsOnly.events.length >= 1 && inProject.events.length >= 2);
    expect(uploadsOnly.events.map((event) => event.data?.statusChanged.node)).toEqual([
      { __typename: 'Upload', id: encodeGlobalID('Upload', upload), filename: 'f.txt' },
    ]);
    expect(inProject.events.map((event) => [event.data?.statusChanged.operation, event.data?.statusChanged.id])).toEqual([
      ['INSERT', encodeGlobalID('Analysis', inside)],
      ['DELETE', encodeGlobalID('Analysis', inside)],
    ]);
  });

  it('refuses anonymous callers, service_role, and a tenant the caller is not a member of', async () => {
    const anonymous = subscribeOverSse<StatusChanged>(gateway, undefined, STATUS_CHANGED);
    const service = subscribeOverSse<StatusChanged>(gateway, await serviceToken(), STATUS_CHANGED);
    const stranger = kept(overWebSocket(gateway, await tokenFor(world.outsider, world.a.id)));
    const foreign = subscribeOverWebSocket<StatusChanged>(stranger, STATUS_CHANGED);
    await Promise.all([anonymous.done, service.done, foreign.done]);
    expect(anonymous.events.at(-1)?.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(service.events.at(-1)?.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(foreign.events.at(-1)?.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(gateway.hub.stats.subscribers).toBe(0);
  });

  it('refuses a user more than MAX_SUBSCRIPTIONS_PER_USER open subscriptions, and counts their departures', async () => {
    const client = kept(overWebSocket(gateway, await tokenFor(world.a.admin, world.a.id)));
    const open = Array.from({ length: MAX_SUBSCRIPTIONS_PER_USER }, () => kept(subscribeOverWebSocket<StatusChanged>(client, STATUS_CHANGED)));
    await subscribed(MAX_SUBSCRIPTIONS_PER_USER);
    const refused = subscribeOverWebSocket<StatusChanged>(client, STATUS_CHANGED);
    await refused.done;
    expect(refused.events.at(-1)?.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    // Another user of the same tenant is not affected, and a departure makes room.
    const other = kept(subscribeOverSse<StatusChanged>(gateway, await tokenFor(world.a.viewer, world.a.id), STATUS_CHANGED));
    await subscribed(MAX_SUBSCRIPTIONS_PER_USER + 1);
    open[0]!.dispose();
    await until(() => gateway.hub.stats.subscribers === MAX_SUBSCRIPTIONS_PER_USER);
    kept(subscribeOverWebSocket<StatusChanged>(client, STATUS_CHANGED));
    await subscribed(MAX_SUBSCRIPTIONS_PER_USER + 1);
    expect(other.events).toEqual([]);
  }, 30_000);

  it('refuses a WebSocket whose connection_init credential does not verify', async () => {
    const client = kept(overWebSocket(gateway, 'not-a-token'));
    const received = subscribeOverWebSocket<StatusChanged>(client, STATUS_CHANGED);
    await received.done;
    expect(received.events.at(-1)?.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('reads each change once for all subscribers of a tenant, however many there are', async () => {
    const token = await tokenFor(world.a.member, world.a.id);
    const many = Array.from({ length: 25 }, () => kept(subscribeOverSse<StatusChanged>(gateway, token, STATUS_CHANGED)));
    await subscribed(25);
    const before = gateway.hub.stats;
    const id = await analysisOf(world.a.id, world.a.member.id);
    await setStatus('analyses', id, 'PROCESSING');
    for (const received of many) await until(() => received.events.length >= 2);
    const after = gateway.hub.stats;
    expect(after.changes - before.changes).toBe(2);
    expect(after.reads - before.reads).toBe(2);
    expect(after.deliveries - before.deliveries).toBe(50);
  });
});

describe('the end of a subscription', () => {
  it('ends with UNAUTHENTICATED when the token expires', async () => {
    const token = await expiringToken(world.a.member, world.a.id, 2);
    const received = kept(subscribeOverSse<StatusChanged>(gateway, token, STATUS_CHANGED));
    await received.done;
    expect(received.events.at(-1)?.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('ends with FORBIDDEN when the membership is removed, and TENANT_SUSPENDED when the tenant is suspended', async () => {
    const member = kept(subscribeOverWebSocket<StatusChanged>(kept(overWebSocket(gateway, await tokenFor(world.a.member, world.a.id))), STATUS_CHANGED));
    const owner = kept(subscribeOverSse<StatusChanged>(gateway, await tokenFor(world.a.owner, world.a.id), STATUS_CHANGED));
    await subscribed(2);
    await db.owner.query('delete from public.tenant_users where tenant_id = $1 and user_id = $2', [world.a.id, world.a.member.id]);
    try {
      await member.done;
      expect(member.events.at(-1)?.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(gateway.hub.stats.subscribers).toBe(1);

      await db.owner.query(`update public.tenants set status = 'SUSPENDED' where id = $1`, [world.a.id]);
      await owner.done;
      expect(owner.events.at(-1)?.errors?.[0]?.extensions?.code).toBe('TENANT_SUSPENDED');
      // And a new subscription is refused while it lasts.
      const refused = subscribeOverSse<StatusChanged>(gateway, await tokenFor(world.a.owner, world.a.id), STATUS_CHANGED);
      await refused.done;
      expect(refused.events.at(-1)?.errors?.[0]?.extensions?.code).toBe('TENANT_SUSPENDED');
    } finally {
      await db.owner.query(`update public.tenants set status = 'ACTIVE' where id = $1`, [world.a.id]);
      await db.owner.query(`insert into public.tenant_users (tenant_id, user_id, role) values ($1, $2, 'MEMBER') on conflict do nothing`, [
        world.a.id,
        world.a.member.id,
      ]);
    }
  });

  it('keeps no memory of subscriptions that have ended', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const token = await tokenFor(world.a.member, world.a.id);
    const ws = kept(overWebSocket(gateway, token));
    const cycle = async (count: number) => {
      for (let i = 0; i < count; i += 50) {
        const batch = Array.from({ length: 50 }, () => subscribeOverWebSocket<StatusChanged>(ws, STATUS_CHANGED));
        await subscribed(50);
        for (const received of batch) received.dispose();
        await until(() => gateway.hub.stats.subscribers === 0 && gateway.hub.stats.tenants === 0);
      }
    };
    await cycle(200); // warm: caches, lazily built code
    gc();
    const before = process.memoryUsage().heapUsed;
    await cycle(1_000);
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    // A leak of what a subscription holds (its context, queue, hub entry: several KB) would show as megabytes.
    expect(grown).toBeLessThan(2 * 1024 * 1024);
  }, 60_000);

  it.runIf(serverUrl)('ends every subscription when the change feed is interrupted, and serves new ones once it is back', async () => {
    const token = await tokenFor(world.a.member, world.a.id);
    const before = kept(subscribeOverSse<StatusChanged>(gateway, token, STATUS_CHANGED));
    await subscribed(1);
    // The server drops the gateway's LISTEN connection (a failover, a restart, an operator).
    await db.owner.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query ilike 'listen %'`);
    await before.done;
    expect(before.events.at(-1)?.errors?.[0]?.extensions?.code).toBe('DATABASE_UNAVAILABLE');
    // Until it has reconnected (with backoff) subscribing is refused, never accepted blind; then changes flow again.
    const deadline = Date.now() + 15_000;
    let after: Received<StatusChanged> | undefined;
    const refusals = new Set<string | undefined>();
    while (Date.now() < deadline) {
      after = kept(subscribeOverSse<StatusChanged>(gateway, token, STATUS_CHANGED));
      const outcome = await Promise.race([after.done.then(() => 'ended'), subscribed(1).then(() => 'subscribed')]);
      if (outcome === 'subscribed') break;
      refusals.add(after.events.at(-1)?.errors?.[0]?.extensions?.code);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect([...refusals].filter((code) => code !== 'DATABASE_UNAVAILABLE')).toEqual([]);
    await analysisOf(world.a.id, world.a.member.id);
    await until(() => after!.events.length > 0);
    expect(after!.events[0]!.data?.statusChanged.operation).toBe('INSERT');
  }, 30_000);

  it('leaves nothing behind when clients disconnect', async () => {
    const token = await tokenFor(world.a.member, world.a.id);
    const ws = overWebSocket(gateway, token);
    const received = [
      subscribeOverWebSocket<StatusChanged>(ws, STATUS_CHANGED),
      subscribeOverWebSocket<StatusChanged>(ws, STATUS_CHANGED, { kinds: ['UPLOAD'] }),
      subscribeOverSse<StatusChanged>(gateway, token, STATUS_CHANGED),
    ];
    await subscribed(3);
    expect(gateway.feed.size).toEqual({ listeners: 1, tenants: 1 });
    received[2]!.dispose();
    await ws.dispose();
    await until(() => gateway.hub.stats.subscribers === 0 && gateway.websocket.connections === 0);
    expect(gateway.hub.stats.tenants).toBe(0);
    expect(gateway.feed.size).toEqual({ listeners: 0, tenants: 0 });
  });
});

describe('the node of a change', () => {
  it("resolves the row's own fields from the shared read, and relations as the subscriber", async () => {
    const token = await tokenFor(world.a.member, world.a.id);
    const query = `subscription { statusChanged { node { ... on Analysis { status requestedBy { email } project { name } } } } }`;
    const received = kept(subscribeOverSse<{ statusChanged: { node: { status: string; requestedBy: { email: string }; project: null } } }>(gateway, token, query));
    const plain = kept(subscribeOverSse<StatusChanged>(gateway, token, STATUS_CHANGED));
    await subscribed(2);
    db.statements.length = 0;
    await analysisOf(world.a.id, world.a.member.id);
    await until(() => received.events.length >= 1 && plain.events.length >= 1);
    expect(received.events[0]!.data!.statusChanged.node).toEqual({ status: 'PENDING', requestedBy: { email: world.a.member.email }, project: null });
    // Prisma ran once, for the subscriber that asked for relations; the other's node came from the hub's one read.
    const reads = db.statements.filter((sql) => /"public"\."analyses"/.test(sql));
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatch(/"public"\."users"/);
  });
});

describe('executing a change once per operation', () => {
  it('shares a result only where nothing was read as the subscriber', async () => {
    const relations = `subscription { statusChanged { node { ... on Analysis { status requestedBy { email } } } } }`;
    const plain = `subscription { statusChanged { node { ... on Analysis { status } } } }`;
    const member = await tokenFor(world.a.member, world.a.id);
    const admin = await tokenFor(world.a.admin, world.a.id);
    type Node = { statusChanged: { node: { status: string; requestedBy?: { email: string } } } };
    const received = [
      kept(subscribeOverSse<Node>(gateway, member, relations)),
      kept(subscribeOverSse<Node>(gateway, admin, relations)),
      kept(subscribeOverSse<Node>(gateway, member, plain)),
      kept(subscribeOverSse<Node>(gateway, admin, plain)),
    ];
    await subscribed(4);
    db.statements.length = 0;
    await analysisOf(world.a.id, world.a.member.id);
    for (const each of received) await until(() => each.events.length >= 1);
    // Each subscriber that asked for a relation read it as themselves; the plain ones read nothing.
    expect(db.statements.filter((sql) => /"public"\."analyses"/.test(sql))).toHaveLength(2);
    expect(received.map((each) => each.events[0]!.data!.statusChanged.node)).toEqual([
      { status: 'PENDING', requestedBy: { email: world.a.member.email } },
      { status: 'PENDING', requestedBy: { email: world.a.member.email } },
      { status: 'PENDING' },
      { status: 'PENDING' },
    ]);
  });
});

describe('sending results straight onto a WebSocket', () => {
  // Error-free results that read nothing as the subscriber skip the per-message iterator chain
  // (src/realtime/shared-results.ts): seen here as the protocol's frames, beside an operation
  // whose results take the chain (it reads a relation as the subscriber) on the same socket.
  it('sends them in order, as graphql-ws frames, and none after the client completes the operation', async () => {
    const token = await tokenFor(world.a.member, world.a.id);
    const socket = new WebSocket(`${gateway.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    open.push({ dispose: () => socket.close() });
    const frames: { id?: string; type: string; payload?: { data?: { statusChanged: { status: string } } } }[] = [];
    socket.on('message', (data) => frames.push(JSON.parse(String(data))));
    await once(socket, 'open');
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
    await until(() => frames.some((frame) => frame.type === 'connection_ack'), { what: 'connection_ack' });
    const shared = 'subscription { statusChanged { status node { ... on Analysis { status } } } }';
    const own = 'subscription { statusChanged { status node { ... on Analysis { requestedBy { email } } } } }';
    socket.send(JSON.stringify({ id: 'shared', type: 'subscribe', payload: { query: shared } }));
    socket.send(JSON.stringify({ id: 'own', type: 'subscribe', payload: { query: own } }));
    await subscribed(2);
    const statusesOf = (id: string) => frames.filter((frame) => frame.id === id && frame.type === 'next').map((frame) => frame.payload!.data!.statusChanged.status);

    const id = await analysisOf(world.a.id, world.a.member.id);
    await setStatus('analyses', id, 'PROCESSING');
    await setStatus('analyses', id, 'COMPLETED');
    await until(() => statusesOf('shared').length >= 3 && statusesOf('own').length >= 3, { what: 'three events each' });
    expect(statusesOf('shared')).toEqual(['PENDING', 'PROCESSING', 'COMPLETED']);
    expect(statusesOf('own')).toEqual(['PENDING', 'PROCESSING', 'COMPLETED']);
    expect(frames.find((frame) => frame.id === 'shared')).toEqual({
      id: 'shared',
      type: 'next',
      payload: { data: { statusChanged: { status: 'PENDING', node: { status: 'PENDING' } } } },
    });
    expect(frames.find((frame) => frame.id === 'own')).toEqual({
      id: 'own',
      type: 'next',
      payload: { data: { statusChanged: { status: 'PENDING', node: { requestedBy: { email: world.a.member.email } } } } },
    });

    socket.send(JSON.stringify({ id: 'shared', type: 'complete' }));
    await until(() => gateway.hub.stats.subscribers === 1, { what: 'the completed subscription to end' });
    await analysisOf(world.a.id, world.a.member.id);
    await until(() => statusesOf('own').length >= 4, { what: 'the next change on the other operation' });
    expect(statusesOf('shared')).toHaveLength(3);
    expect(frames.filter((frame) => frame.type === 'error' || frame.type === 'complete')).toEqual([]);
  });
});
