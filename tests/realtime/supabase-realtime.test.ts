import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createClient,
  type RealtimeChannel,
  type RealtimePostgresChangesPayload,
  type RealtimeSystemPayload,
  type SupabaseClient,
} from '@supabase/supabase-js';
import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTokenVerifier } from '../../src/auth/verifier.ts';
import { postgresNotifications } from '../../src/db/notifications.ts';
import { ChangeFeed } from '../../src/realtime/change-feed.ts';
import { RealtimeHub } from '../../src/realtime/hub.ts';
import { parseRowFilter } from '../../src/realtime/row-filter.ts';
import { createSupabaseRealtime, SUPABASE_REALTIME_PATH, type SupabaseRealtime } from '../../src/realtime/supabase-realtime.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { TEST_ISSUER, TEST_SECRET, tokenFor } from '../support/gateway.ts';
import { addMember, as, createUser, createWorld, insertRow, SERVICE, type World, type WorldUser } from '../support/world.ts';
import { until } from '../support/until.ts';

// The Supabase Realtime protocol, spoken by the real, unmodified supabase-js against the gateway:
// postgres_changes of the lifecycle tables, broadcasts on a tenant's private channels, and the
// channel ending when the hub ends its subscription.
let db: TestDatabase;
let world: World;
let feed: ChangeFeed;
let hub: RealtimeHub;
let realtime: SupabaseRealtime;
let server: Server;
let baseUrl: string;
const verifyToken = createTokenVerifier({ hsSecret: TEST_SECRET, issuer: TEST_ISSUER, audience: 'authenticated' });

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
  feed = new ChangeFeed(db.urls ? postgresNotifications(db.urls.gateway) : { listen: db.listen });
  await feed.start();
  hub = new RealtimeHub(feed, db.gateway);
  realtime = createSupabaseRealtime({ hub, verifyToken });
  ({ server, url: baseUrl } = await serve(realtime));
});

afterAll(async () => {
  await realtime?.close();
  await new Promise((resolve) => server?.close(resolve));
  hub?.close();
  await feed?.stop();
  await db?.close();
});

const clients: SupabaseClient[] = [];
const rawSockets: WebSocket[] = [];

afterEach(async () => {
  await Promise.all(
    clients.splice(0).map(async (supabase) => {
      await supabase.removeAllChannels();
      await supabase.realtime.disconnect();
    }),
  );
  for (const socket of rawSockets.splice(0)) socket.terminate();
  // Whatever a test did, a disconnected client leaves nothing behind.
  await until(() => realtime.connections === 0 && hub.stats.subscribers === 0, { what: 'every socket and subscription to be gone', timeoutMs: 8_000 });
});

async function serve(instance: SupabaseRealtime): Promise<{ server: Server; url: string }> {
  const http = createServer((_req, res) => res.writeHead(404).end());
  http.on('upgrade', instance.handleUpgrade);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return { server: http, url: `http://127.0.0.1:${(http.address() as AddressInfo).port}` };
}


/** supabase-js as an app uses it, its access token set with setAuth. */
function connect(token?: string): SupabaseClient {
  const supabase = createClient(baseUrl, 'anon-key-not-checked', {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    // Node 20 has no global WebSocket.
    realtime: { transport: WebSocket as never },
  });
  if (token) void supabase.realtime.setAuth(token);
  clients.push(supabase);
  return supabase;
}

interface Watched {
  channel: RealtimeChannel;
  statuses: { status: string; error?: Error }[];
  system: RealtimeSystemPayload[];
}

/** Subscribes, recording what subscribe's callback and the channel's `system` messages report. */
function watch(channel: RealtimeChannel): Watched {
  const watched: Watched = { channel, statuses: [], system: [] };
  channel.on('system', {}, (payload: RealtimeSystemPayload) => watched.system.push(payload));
  channel.subscribe((status, error) => watched.statuses.push({ status, error }));
  return watched;
}

async function firstStatus(watched: Watched): Promise<{ status: string; error?: Error }> {
  await until(() => watched.statuses.length > 0, { what: `${watched.channel.topic} to report a status`, timeoutMs: 8_000 });
  return watched.statuses[0]!;
}

async function subscribed(watched: Watched): Promise<void> {
  const { status, error } = await firstStatus(watched);
  expect(status, error?.message).toBe('SUBSCRIBED');
}

/** A postgres_changes payload as realtime-js hands it over, its records loosely typed for the checks. */
type Change = Omit<RealtimePostgresChangesPayload<Record<string, unknown>>, 'new' | 'old'> & {
  new: Record<string, unknown>;
  old: Record<string, unknown>;
};

function listen(channel: RealtimeChannel, event: '*' | 'INSERT' | 'UPDATE' | 'DELETE', options: { table?: string; filter?: string } = {}): Change[] {
  const got: Change[] = [];
  channel.on('postgres_changes', { event: event as '*', schema: 'public', table: 'analyses', ...options }, (payload) => got.push(payload as Change));
  return got;
}

const analysisOf = (tenantId: string, userId: string) =>
  insertRow(db.owner, 'analyses', { tenant_id: tenantId, user_id: userId, type: 'TEXT_ANALYSIS', input: 'watched' });
const setStatus = (id: string, status: 'PROCESSING' | 'COMPLETED') =>
  as(db.gateway, SERVICE, `update public.analyses set status = '${status}' where id = $1`, [id]);

/** A token that expires `seconds` from now (tokenFor's always lasts an hour). */
function expiringToken(user: WorldUser, tenantId: string, seconds: number): Promise<string> {
  return new SignJWT({ role: 'authenticated', email: user.email, app_metadata: { tenant_id: tenantId }, user_metadata: {} })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(user.id)
    .setIssuer(TEST_ISSUER)
    .setAudience('authenticated')
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + seconds)
    .sign(new TextEncoder().encode(TEST_SECRET));
}

/** A raw socket, for what no real client sends; `frames` collects what the server answers. */
async function rawSocket(query = 'apikey=anon-key-not-checked&vsn=2.0.0', url = baseUrl) {
  const socket = new WebSocket(`${url.replace('http', 'ws')}${SUPABASE_REALTIME_PATH}?${query}`);
  rawSockets.push(socket);
  const frames: unknown[][] = [];
  const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
  socket.on('message', (data, isBinary) => {
    if (!isBinary) frames.push(JSON.parse(String(data)) as unknown[]);
  });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  const replyTo = async (ref: string) => {
    await until(() => frames.some((frame) => frame[1] === ref && frame[3] === 'phx_reply'), { what: `the reply to ${ref}`, timeoutMs: 8_000 });
    return frames.find((frame) => frame[1] === ref && frame[3] === 'phx_reply')![4] as { status: string; response: Record<string, unknown> };
  };
  return { socket, frames, closed, replyTo };
}

describe('postgres_changes over the Supabase Realtime protocol', () => {
  it('delivers INSERT, UPDATE and DELETE, each to the bindings of its event, shaped as realtime-js expects', async () => {
    const supabase = connect(await tokenFor(world.a.member, world.a.id));
    const channel = supabase.channel('analyses-of-a');
    const all = listen(channel, '*');
    const inserts = listen(channel, 'INSERT');
    const updates = listen(channel, 'UPDATE');
    const deletes = listen(channel, 'DELETE');
    const watched = watch(channel);
    await subscribed(watched);
    await until(() => watched.system.length > 0, { what: 'the system message that follows the join', timeoutMs: 8_000 });
    expect(watched.system).toEqual([{ extension: 'postgres_changes', status: 'ok', message: 'Subscribed to PostgreSQL', channel: 'analyses-of-a' }]);

    // Each step waits for its event: the hub reads the row when it delivers, and a row deleted
    // meanwhile is delivered to nobody.
    const id = await analysisOf(world.a.id, world.a.member.id);
    await until(() => all.length === 1, { what: 'the INSERT', timeoutMs: 8_000 });
    await setStatus(id, 'PROCESSING');
    await until(() => all.length === 2, { what: 'the UPDATE', timeoutMs: 8_000 });
    await db.owner.query('delete from public.analyses where id = $1', [id]);
    await until(() => deletes.length === 1 && all.length === 3, { what: 'the DELETE', timeoutMs: 8_000 });

    const [insert, update, deletion] = all;
    expect(insert).toMatchObject({
      schema: 'public',
      table: 'analyses',
      eventType: 'INSERT',
      new: { id, tenant_id: world.a.id, user_id: world.a.member.id, status: 'PENDING', input: 'watched' },
      old: {},
      errors: null,
    });
    expect(insert!.commit_timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+Z$/);
    expect(update).toMatchObject({ eventType: 'UPDATE', new: { id, status: 'PROCESSING' }, old: { id, status: 'PENDING' } });
    expect(update!.old).toEqual({ id, status: 'PENDING' });
    expect(deletion).toMatchObject({ eventType: 'DELETE', new: {} });
    expect(deletion!.old).toEqual({ id, tenant_id: world.a.id, status: 'PROCESSING' });
    expect([inserts, updates, deletes].map((got) => got.map((change) => change.eventType))).toEqual([['INSERT'], ['UPDATE'], ['DELETE']]);
  });

  it('applies filters: eq, in, and not', async () => {
    const supabase = connect(await tokenFor(world.a.member, world.a.id));
    const channel = supabase.channel('filtered');
    const everything = listen(channel, '*');
    const mine = listen(channel, 'INSERT', { filter: `user_id=eq.${world.a.member.id}` });
    const running = listen(channel, 'UPDATE', { filter: 'status=in.(PROCESSING,COMPLETED)' });
    const notMine = listen(channel, 'INSERT', { filter: `user_id=not.eq.${world.a.member.id}` });
    await subscribed(watch(channel));

    const theirs = await analysisOf(world.a.id, world.a.admin.id);
    const ours = await analysisOf(world.a.id, world.a.member.id);
    await until(() => everything.length === 2, { what: 'both inserts', timeoutMs: 8_000 });
    await setStatus(ours, 'PROCESSING');
    await until(() => everything.length === 3, { what: 'the update', timeoutMs: 8_000 });

    // The hub delivers a tenant's changes in order: what a filter let through has arrived by now.
    expect(mine.map((change) => change.new.id)).toEqual([ours]);
    expect(notMine.map((change) => change.new.id)).toEqual([theirs]);
    expect(running.map((change) => [change.new.id, change.new.status])).toEqual([[ours, 'PROCESSING']]);
  });

  it("reaches every member of the row's tenant, a VIEWER too, and no one else", async () => {
    const viewer = connect(await tokenFor(world.a.viewer, world.a.id)).channel('viewer');
    const outsider = connect(await tokenFor(world.b.member, world.b.id)).channel('outsider');
    const seenByViewer = listen(viewer, '*');
    const seenByOutsider = listen(outsider, '*');
    await subscribed(watch(viewer));
    await subscribed(watch(outsider));

    const inA = await analysisOf(world.a.id, world.a.member.id);
    await until(() => seenByViewer.length === 1, { what: "the viewer's change", timeoutMs: 8_000 });
    const inB = await analysisOf(world.b.id, world.b.member.id);
    await until(() => seenByOutsider.length === 1, { what: "tenant b's own change", timeoutMs: 8_000 });

    expect(seenByViewer.map((change) => change.new.id)).toEqual([inA]);
    expect(seenByOutsider.map((change) => change.new.id)).toEqual([inB]);
  });

  it('refuses tables without a lifecycle, other schemas, unknown columns and joins without a user', async () => {
    const supabase = connect(await tokenFor(world.a.member, world.a.id));
    const refusals = [
      supabase.channel('projects').on('postgres_changes', { event: '*', schema: 'public', table: 'projects' }, () => undefined),
      supabase.channel('private-schema').on('postgres_changes', { event: '*', schema: 'private', table: 'analyses' }, () => undefined),
      supabase.channel('typo').on('postgres_changes', { event: '*', schema: 'public', table: 'analyses', filter: 'stauts=eq.PENDING' }, () => undefined),
      supabase.channel('bad-filter').on('postgres_changes', { event: '*', schema: 'public', table: 'analyses', filter: 'input=like.%x%' }, () => undefined),
    ].map(watch);
    const reasons = await Promise.all(refusals.map(async (watched) => firstStatus(watched)));
    expect(reasons.map(({ status }) => status)).toEqual(['CHANNEL_ERROR', 'CHANNEL_ERROR', 'CHANNEL_ERROR', 'CHANNEL_ERROR']);
    expect(reasons[0]!.error?.message).toMatch(/VALIDATION_FAILED: .*not for "projects"/);
    expect(reasons[1]!.error?.message).toMatch(/schema public only/);
    expect(reasons[2]!.error?.message).toMatch(/no column stauts/);
    expect(reasons[3]!.error?.message).toMatch(/operator "like" is not served/);

    const anonymous = connect().channel('anonymous');
    listen(anonymous, '*');
    const { status, error } = await firstStatus(watch(anonymous));
    expect(status).toBe('CHANNEL_ERROR');
    expect(error?.message).toMatch(/^UNAUTHENTICATED: .*setAuth/);
  });

  it('serves a second channel of a client, whose join carries the project key rather than the token', async () => {
    // supabase-js without an Auth session replaces the token set with setAuth by its project key
    // as soon as it connects: later joins carry that key, and the socket's token stands in.
    const supabase = connect(await tokenFor(world.a.member, world.a.id));
    const first = supabase.channel('first');
    listen(first, '*');
    await subscribed(watch(first));
    const second = supabase.channel('second');
    const got = listen(second, 'INSERT');
    await subscribed(watch(second));
    const id = await analysisOf(world.a.id, world.a.member.id);
    await until(() => got.length === 1, { what: 'the INSERT on the second channel', timeoutMs: 8_000 });
    expect(got[0]!.new.id).toBe(id);
  });
});

describe('broadcast on private channels', () => {
  it("relays between members of the topic's tenant, to the sender too only with self, acknowledged with ack", async () => {
    const topic = `tenant:${world.a.id}`;
    const sender = connect(await tokenFor(world.a.member, world.a.id)).channel(topic, { config: { private: true } });
    const receiver = connect(await tokenFor(world.a.admin, world.a.id)).channel(topic, { config: { private: true, broadcast: { self: true, ack: true } } });
    const toSender: unknown[] = [];
    const toReceiver: unknown[] = [];
    sender.on('broadcast', { event: '*' }, (message) => toSender.push(message));
    receiver.on('broadcast', { event: '*' }, (message) => toReceiver.push(message));
    await subscribed(watch(sender));
    await subscribed(watch(receiver));

    expect(await sender.send({ type: 'broadcast', event: 'cursor', payload: { x: 1, label: 'é✓' } })).toBe('ok');
    await until(() => toReceiver.length === 1, { what: 'the broadcast', timeoutMs: 8_000 });
    expect(toReceiver[0]).toEqual({ type: 'broadcast', event: 'cursor', payload: { x: 1, label: 'é✓' } });

    // ack: the send resolves with the server's reply; self: the receiver hears itself too.
    expect(await receiver.send({ type: 'broadcast', event: 'reply', payload: { ok: true } })).toBe('ok');
    await until(() => toSender.length === 1 && toReceiver.length === 2, { what: 'the reply', timeoutMs: 8_000 });
    // The sender's own 'cursor' would have come before the reply, on the same socket: it did not.
    expect(toSender).toEqual([{ type: 'broadcast', event: 'reply', payload: { ok: true } }]);
    expect(toReceiver[1]).toEqual({ type: 'broadcast', event: 'reply', payload: { ok: true } });

    // A binary payload travels as bytes.
    await sender.send({ type: 'broadcast', event: 'bytes', payload: new Uint8Array([1, 2, 255]).buffer });
    await until(() => toReceiver.length === 3, { what: 'the binary broadcast', timeoutMs: 8_000 });
    expect(new Uint8Array((toReceiver[2] as { payload: ArrayBuffer }).payload)).toEqual(new Uint8Array([1, 2, 255]));
  });

  it("refuses another tenant's channel, a private channel not named after a tenant, and public channels", async () => {
    const supabase = connect(await tokenFor(world.b.member, world.b.id));
    const [otherTenant, unnamed, publicChannel] = [
      supabase.channel(`tenant:${world.a.id}`, { config: { private: true } }),
      supabase.channel('room-1', { config: { private: true } }),
      supabase.channel('lobby'),
    ].map((channel) => watch(channel.on('broadcast', { event: '*' }, () => undefined)));
    const results = await Promise.all([otherTenant, unnamed, publicChannel].map((watched) => firstStatus(watched!)));
    expect(results.map(({ status }) => status)).toEqual(['CHANNEL_ERROR', 'CHANNEL_ERROR', 'CHANNEL_ERROR']);
    expect(results[0]!.error?.message).toMatch(/^FORBIDDEN: this private channel belongs to tenant/);
    expect(results[1]!.error?.message).toMatch(/private channels are named tenant:<tenant id>/);
    expect(results[2]!.error?.message).toMatch(/public channels are not served/);
  });
});

describe('the channel ends when its access does', () => {
  it('keeps a channel whose token is refreshed with setAuth past the first token’s expiry', async () => {
    const first = await expiringToken(world.a.member, world.a.id, 3);
    const supabase = connect(first);
    const channel = supabase.channel('refreshed');
    const got = listen(channel, 'INSERT');
    const watched = watch(channel);
    await subscribed(watched);
    await supabase.realtime.setAuth(await tokenFor(world.a.member, world.a.id, { session_id: 'refreshed' }));

    // Past the first token's expiry (which would end the channel), changes still arrive.
    const expiresAt = JSON.parse(Buffer.from(first.split('.')[1]!, 'base64url').toString()).exp * 1000;
    await until(() => Date.now() > expiresAt + 300, { what: "the first token's expiry", timeoutMs: 8_000 });
    const id = await analysisOf(world.a.id, world.a.member.id);
    await until(() => got.length === 1, { what: 'a change after the expiry', timeoutMs: 8_000 });
    expect(got[0]!.new.id).toBe(id);
    expect(watched.statuses.map(({ status }) => status)).toEqual(['SUBSCRIBED']);
    expect(watched.system.filter(({ status }) => status === 'error')).toEqual([]);
  });

  it("ends a channel when its token expires, or is refreshed with another user's or an invalid one", async () => {
    const expiring = watch(listenTo(connect(await expiringToken(world.a.member, world.a.id, 2)).channel('expiring')));
    const otherUser = connect(await tokenFor(world.a.member, world.a.id));
    const swapped = watch(listenTo(otherUser.channel('swapped')));
    const invalid = connect(await tokenFor(world.a.member, world.a.id));
    const garbled = watch(listenTo(invalid.channel('garbled')));
    await Promise.all([expiring, swapped, garbled].map(subscribed));

    await otherUser.realtime.setAuth(await tokenFor(world.a.admin, world.a.id));
    await invalid.realtime.setAuth('not-a-jwt');
    for (const watched of [expiring, swapped, garbled]) {
      await until(() => watched.statuses.some(({ status }) => status === 'CLOSED'), { what: `${watched.channel.topic} to close`, timeoutMs: 8_000 });
    }
    const errorOf = (watched: Watched) => watched.system.find(({ status }) => status === 'error');
    expect(errorOf(expiring)).toEqual({ extension: 'system', status: 'error', message: expect.stringMatching(/^UNAUTHENTICATED: the token has expired/), channel: 'expiring' });
    expect(errorOf(swapped)?.message).toMatch(/^FORBIDDEN: a renewed token must name the same user and tenant/);
    expect(errorOf(garbled)?.message).toMatch(/^UNAUTHENTICATED: the bearer token is not a well-formed JWT/);
    expect(expiring.channel.state).toBe('closed');
  });

  it('ends the channels of a member whose membership is removed', async () => {
    const leaver = await createUser(db.owner, 'leaver');
    await addMember(db.owner, world.a.id, leaver.id, 'MEMBER');
    const supabase = connect(await tokenFor(leaver, world.a.id));
    const changes = watch(listenTo(supabase.channel('leaver-changes')));
    const room = watch(supabase.channel(`tenant:${world.a.id}:leaver`, { config: { private: true } }));
    await subscribed(changes);
    await subscribed(room);

    await db.owner.query('delete from public.tenant_users where tenant_id = $1 and user_id = $2', [world.a.id, leaver.id]);
    for (const watched of [changes, room]) {
      await until(() => watched.statuses.some(({ status }) => status === 'CLOSED'), { what: `${watched.channel.topic} to close`, timeoutMs: 8_000 });
      expect(watched.system.at(-1)).toMatchObject({ extension: 'system', status: 'error', message: 'FORBIDDEN: your membership of the tenant was removed' });
    }
  });

  it('ends the channels of a suspended tenant', async () => {
    const spare = await createWorld(db.owner);
    const supabase = connect(await tokenFor(spare.a.owner, spare.a.id));
    const changes = watch(listenTo(supabase.channel('suspended-changes')));
    const room = watch(supabase.channel(`tenant:${spare.a.id}`, { config: { private: true } }));
    await subscribed(changes);
    await subscribed(room);

    await db.owner.query(`update public.tenants set status = 'SUSPENDED' where id = $1`, [spare.a.id]);
    for (const watched of [changes, room]) {
      await until(() => watched.statuses.some(({ status }) => status === 'CLOSED'), { what: `${watched.channel.topic} to close`, timeoutMs: 8_000 });
      expect(watched.system.at(-1)).toMatchObject({ status: 'error', message: 'TENANT_SUSPENDED: the tenant is SUSPENDED' });
    }
    // Joining again is refused as long as the tenant stays suspended.
    const again = await firstStatus(watch(listenTo(supabase.channel('suspended-again'))));
    expect(again.status).toBe('CHANNEL_ERROR');
    expect(again.error?.message).toMatch(/^TENANT_SUSPENDED/);
  });
});

describe('hostile clients', () => {
  it('closes a socket that sends garbage, binary that is no broadcast, or an oversized frame; others are unaffected', async () => {
    const bystander = connect(await tokenFor(world.a.member, world.a.id)).channel('bystander');
    const got = listen(bystander, 'INSERT');
    await subscribed(watch(bystander));

    const garbage = await rawSocket();
    garbage.socket.send('{"not": "a phoenix frame"');
    expect(await garbage.closed).toBe(1007);
    const notAnArray = await rawSocket();
    notAnArray.socket.send(JSON.stringify({ topic: 'phoenix', event: 'heartbeat', payload: {}, ref: '1' }));
    expect(await notAnArray.closed).toBe(1007);
    const binary = await rawSocket();
    binary.socket.send(Buffer.from([9, 9, 9, 9]));
    expect(await binary.closed).toBe(1003);
    const truncated = await rawSocket();
    truncated.socket.send(Buffer.from([3, 200, 0, 0, 0, 0, 1]));
    expect(await truncated.closed).toBe(1003);
    // An event of 200 invalid bytes would decode to 600 bytes of replacement characters.
    const invalidEvent = await rawSocket();
    invalidEvent.socket.send(Buffer.concat([Buffer.from([3, 0, 0, 0, 200, 0, 1]), Buffer.alloc(200, 0xff), Buffer.from('{}')]));
    expect(await invalidEvent.closed).toBe(1003);
    const huge = await rawSocket();
    huge.socket.send('x'.repeat(70 * 1024));
    expect(await huge.closed).toBe(1009);

    // The wrong protocol version, or another path, is refused at the upgrade.
    await expect(rawSocket('apikey=x&vsn=1.0.0')).rejects.toThrow(/400/);

    const id = await analysisOf(world.a.id, world.a.member.id);
    await until(() => got.length === 1, { what: "the bystander's change", timeoutMs: 8_000 });
    expect(got[0]!.new.id).toBe(id);
  });

  it('answers unknown events and unjoined topics with errors, heartbeats with ok', async () => {
    const { socket, replyTo } = await rawSocket();
    socket.send(JSON.stringify([null, '1', 'phoenix', 'heartbeat', {}]));
    expect(await replyTo('1')).toEqual({ status: 'ok', response: {} });
    socket.send(JSON.stringify([null, '2', 'phoenix', 'shutdown', {}]));
    expect(await replyTo('2')).toEqual({ status: 'error', response: { reason: 'unknown event "shutdown"' } });
    socket.send(JSON.stringify(['3', '3', 'realtime:nowhere', 'broadcast', { type: 'broadcast', event: 'x', payload: {} }]));
    expect(await replyTo('3')).toEqual({ status: 'error', response: { reason: 'unmatched topic' } });
    socket.send(JSON.stringify(['4', '4', 'nowhere', 'phx_join', { config: { private: true } }]));
    expect((await replyTo('4')).response.reason).toBe('topics are realtime:<name>');
    socket.send(JSON.stringify(['5', '5', `realtime:tenant:${world.a.id}`, 'phx_join', { config: { private: true }, access_token: 'anon-key-not-checked' }]));
    expect((await replyTo('5')).response.reason).toMatch(/^UNAUTHENTICATED/);

    const token = await tokenFor(world.a.member, world.a.id);
    socket.send(JSON.stringify(['6', '6', `realtime:tenant:${world.a.id}`, 'phx_join', { config: { private: true }, access_token: token }]));
    expect(await replyTo('6')).toEqual({ status: 'ok', response: { postgres_changes: [] } });
    socket.send(JSON.stringify(['6', '7', `realtime:tenant:${world.a.id}`, 'presence', { type: 'presence', event: 'track', payload: {} }]));
    expect((await replyTo('7')).status).toBe('error');
    socket.send(JSON.stringify(['6', '8', `realtime:tenant:${world.a.id}`, 'phx_leave', {}]));
    expect(await replyTo('8')).toEqual({ status: 'ok', response: {} });
    await until(() => hub.stats.subscribers === 0, { what: 'the left channel to be unsubscribed', timeoutMs: 8_000 });
  });

  it('caps the channels of one socket, and cleans up after a socket that vanishes', async () => {
    const { socket, frames } = await rawSocket();
    const token = await tokenFor(world.a.member, world.a.id);
    const binding = { event: '*', schema: 'public', table: 'analyses' };
    for (let n = 0; n <= 100; n += 1) {
      socket.send(JSON.stringify([`${n}`, `${n}`, `realtime:c${n}`, 'phx_join', { config: { postgres_changes: [binding] }, access_token: token }]));
    }
    const replies = () => frames.filter((frame) => frame[3] === 'phx_reply');
    await until(() => replies().length === 101, { what: 'every join to be answered', timeoutMs: 20_000 });
    const refused = replies().filter((frame) => (frame[4] as { status: string }).status === 'error');
    expect(refused.map((frame) => (frame[4] as { response: { reason: string } }).response.reason)).toEqual(['a connection may join at most 100 channels']);
    expect(replies().find((frame) => frame[2] === 'realtime:c0')![4]).toEqual({ status: 'ok', response: { postgres_changes: [{ ...binding, id: 1 }] } });
    expect(hub.stats.subscribers).toBe(100);

    // Gone without a closing handshake: afterEach checks that nothing is left behind.
    socket.terminate();
  });

  it('closes a socket that stops sending frames, and every socket when it closes', async () => {
    const quick = createSupabaseRealtime({ hub, verifyToken, idleTimeoutMs: 200 });
    const { server: quickServer, url } = await serve(quick);
    try {
      const silent = await rawSocket(undefined, url);
      expect(await silent.closed).toBe(1000);
      const open = await rawSocket(undefined, url);
      expect(quick.connections).toBe(1);
      await quick.close();
      expect(await open.closed).toBe(1001);
      expect(quick.connections).toBe(0);
    } finally {
      await new Promise((resolve) => quickServer.close(resolve));
    }
  });
});

describe('parseRowFilter', () => {
  const row = { id: 'b3f1', status: 'PENDING', size_bytes: 10, is_public: false, project_id: null, created_at: '2025-01-02T03:04:05.123456+00:00' };
  const matches = (filter: string) => parseRowFilter(filter).matches(row);

  it('evaluates the operators realtime-js writes, with SQL nulls', () => {
    expect(['status=eq.PENDING', 'status=neq.DONE', 'size_bytes=gt.9', 'size_bytes=lte.10', 'status=in.(PENDING,"A,B")', 'is_public=eq.false']
      .every(matches)).toBe(true);
    expect(['status=eq.DONE', 'size_bytes=lt.10', 'status=in.(DONE)', 'status=not.eq.PENDING'].some(matches)).toBe(false);
    expect(['project_id=is.null', 'project_id=isdistinct.x', 'created_at=gt.2025-01-01', 'created_at=lt.2025-01-02 04:00:00+00'].every(matches)).toBe(true);
    // A null or absent cell is unknown: neither it nor its negation matches.
    expect(['project_id=eq.x', 'project_id=not.eq.x', 'user_id=eq.x', 'user_id=not.eq.x'].some(matches)).toBe(false);
    expect(matches('status=eq.PENDING,size_bytes=gt.100')).toBe(false);
    expect(parseRowFilter('status=eq.PENDING,size_bytes=gt.1').columns).toEqual(['status', 'size_bytes']);
  });

  it('refuses what it cannot serve, saying why', () => {
    expect(() => parseRowFilter('status')).toThrow(/column=operator.value/);
    expect(() => parseRowFilter('status=like.P%')).toThrow(/"like" is not served/);
    expect(() => parseRowFilter('status=in.PENDING')).toThrow(/list in parentheses/);
    expect(() => parseRowFilter('status=eq."open')).toThrow(/unbalanced/);
    expect(() => parseRowFilter('1status=eq.x')).toThrow(/column=operator.value/);
  });
});

/** A channel listening to every change of analyses. */
function listenTo(channel: RealtimeChannel): RealtimeChannel {
  listen(channel, '*');
  return channel;
}
