import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { AuthError, KeySourceError } from '../auth/errors.ts';
import type { TokenVerifier } from '../auth/verifier.ts';
import { DomainError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { RequestClaims } from '../session/claims.ts';
import type { Delivery, RealtimeHub, Subscription } from './hub.ts';
import { LIFECYCLE_TABLES } from './lifecycle-rows.ts';
import { postgresChanges } from './postgres-changes.ts';
import { FilterError } from './row-filter.ts';
import { type Binding, type ChannelSpec, channelSpec, PRIVATE_TOPIC, Refusal, TOPIC_PREFIX } from './supabase-join.ts';
import {
  asBuffer,
  type Broadcast,
  broadcastOfJson,
  decodeBroadcastPush,
  decodeMessage,
  encodeMessage,
  encodeUserBroadcast,
  type Message,
} from './phoenix-frames.ts';

// Supabase Realtime's WebSocket protocol (Phoenix channels, serializer vsn 2.0.0), so that an
// unmodified supabase-js pointed at the gateway receives `postgres_changes` of the lifecycle
// tables and exchanges `broadcast` messages on its tenant's private channels. The gateway's
// rules stay the gateway's: every joined channel is one RealtimeHub subscription, authorised
// through the database as the token's user in the token's tenant, and ended (a `system` error,
// then `phx_close`) when the hub ends it: token expiry, membership removed, tenant suspended.
//
// Frames are `[join_ref, ref, topic, event, payload]` JSON arrays, except broadcasts: realtime-js
// pushes them as binary "user broadcast push" frames (kind 3) and decodes binary "user
// broadcast" frames (kind 4), which is what the gateway relays them as.
//
// Broadcasts reach the sockets of this process only: with several gateway processes, members on
// different processes do not hear each other's broadcasts (nothing relays them between
// processes). postgres_changes do reach every process, each having its own hub on the shared
// change feed.

export interface SupabaseRealtimeOptions {
  hub: RealtimeHub;
  verifyToken: TokenVerifier;
  logger?: Logger;
  /** A socket that sends no frame for this long is closed; realtime-js heartbeats every 25 s. */
  idleTimeoutMs?: number;
}

export interface SupabaseRealtime {
  /** Takes over an upgrade request for SUPABASE_REALTIME_PATH (an UpgradeHandler of src/server/http.ts). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** sockets open */
  readonly connections: number;
  close(): Promise<void>;
}

export const SUPABASE_REALTIME_PATH = '/realtime/v1/websocket';

const VSN = '2.0.0';
const MAX_PAYLOAD_BYTES = 64 * 1024;
const MAX_CHANNELS_PER_SOCKET = 100;
const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
/** Past this much unsent data the client is not reading: it is disconnected, not buffered for. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const STOP_GRACE_MS = 1_000;

/** WebSocket close codes. */
const CLOSE = { normal: 1000, goingAway: 1001, unsupportedData: 1003, invalidData: 1007 } as const;

interface Channel extends ChannelSpec {
  topic: string;
  joinRef: string;
  socket: Connection;
  state: 'joining' | 'joined' | 'closed';
  token?: string;
  subscription?: Subscription;
  /** Set when the hub ended the subscription before the join finished: the join is refused with it. */
  refusal?: string;
  /** access_token refreshes of the channel, applied one after another. */
  renewals: Promise<void>;
}

interface Connection {
  ws: WebSocket;
  /** The project key supabase-js sends as `apikey` (and as access_token when it has no session): never a credential. */
  apiKey: string | null;
  /** The user token last accepted on this socket, for joins that carry none of their own. */
  token?: string;
  channels: Map<string, Channel>;
  lastFrameAt: number;
  idleTimer?: NodeJS.Timeout;
}

export function createSupabaseRealtime(options: SupabaseRealtimeOptions): SupabaseRealtime {
  const { hub, verifyToken, logger } = options;
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const server = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD_BYTES });
  const connections = new Set<Connection>();
  /** Joined private channels by topic: whom a broadcast on the topic reaches. */
  const rooms = new Map<string, Set<Channel>>();
  let stopping = false;

  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const refusal =
      stopping ? '503 Service Unavailable' :
      url.pathname !== SUPABASE_REALTIME_PATH ? '404 Not Found' :
      url.searchParams.get('vsn') !== VSN ? '400 Bad Request' : undefined;
    if (refusal) {
      socket.end(`HTTP/1.1 ${refusal}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    server.handleUpgrade(req, socket, head, (ws) => open(ws, url.searchParams.get('apikey')));
  }

  function open(ws: WebSocket, apiKey: string | null): void {
    const connection: Connection = { ws, apiKey, channels: new Map(), lastFrameAt: Date.now() };
    connections.add(connection);
    watchIdle(connection);
    ws.on('message', (data, isBinary) => {
      connection.lastFrameAt = Date.now();
      try {
        receive(connection, data, isBinary);
      } catch (error) {
        logger?.error({ err: error }, 'supabase realtime: a frame could not be handled');
        ws.close(CLOSE.invalidData, 'the frame could not be handled');
      }
    });
    // ws reports oversized or broken frames here, then closes the socket.
    ws.on('error', (error) => logger?.warn({ err: error }, 'supabase realtime: socket error'));
    ws.on('close', () => {
      clearTimeout(connection.idleTimer);
      connections.delete(connection);
      for (const channel of [...connection.channels.values()]) closeChannel(channel);
    });
  }

  /** Closes a socket that stopped sending: heartbeats come every 25 s from a live realtime-js. */
  function watchIdle(connection: Connection): void {
    const remaining = connection.lastFrameAt + idleTimeoutMs - Date.now();
    if (remaining <= 0) {
      connection.ws.close(CLOSE.normal, `no frame for ${Math.round(idleTimeoutMs / 1000)} s`);
      return;
    }
    connection.idleTimer = setTimeout(() => watchIdle(connection), remaining);
    connection.idleTimer.unref();
  }

  function receive(connection: Connection, data: RawData, isBinary: boolean): void {
    const bytes = asBuffer(data);
    if (isBinary) {
      const push = decodeBroadcastPush(bytes);
      if (!push) return reject(connection, CLOSE.unsupportedData, 'binary frames must be user broadcast pushes');
      return onBroadcast(connection, push.message, push.broadcast);
    }
    const message = decodeMessage(bytes.toString('utf8'));
    if (!message) return reject(connection, CLOSE.invalidData, 'frames must be [join_ref, ref, topic, event, payload]');
    dispatch(connection, message);
  }

  /** No realtime-js sends a frame that is not Phoenix's: a peer that does is broken or hostile, and is closed. */
  function reject(connection: Connection, code: number, reason: string): void {
    logger?.warn({ code, reason }, 'supabase realtime: closed a socket that sent a malformed frame');
    connection.ws.close(code, reason);
  }

  function dispatch(connection: Connection, message: Message): void {
    const { topic, event } = message;
    if (topic === 'phoenix') {
      return event === 'heartbeat' ? reply(connection, message, 'ok', {}) : reply(connection, message, 'error', { reason: `unknown event "${event}"` });
    }
    if (event === 'phx_join') {
      join(connection, message).catch((error: unknown) => logger?.error({ err: error }, 'supabase realtime: a join failed'));
      return;
    }
    const channel = connection.channels.get(topic);
    if (event === 'phx_leave') {
      if (channel) closeChannel(channel);
      // Leaving a channel that is not joined leaves it just as well.
      return reply(connection, message, 'ok', {});
    }
    if (!channel || channel.state !== 'joined') return reply(connection, message, 'error', { reason: 'unmatched topic' });
    switch (event) {
      case 'access_token':
        return refreshToken(channel, message);
      case 'broadcast': {
        const broadcast = broadcastOfJson(message.payload);
        if (!broadcast) return reply(connection, message, 'error', { reason: 'a broadcast needs an event name (at most 255 bytes) and a payload' });
        return relay(channel, message, broadcast);
      }
      case 'presence':
        return reply(connection, message, 'error', { reason: 'presence is not served by this gateway' });
      default:
        return reply(connection, message, 'error', { reason: `unknown event "${event}"` });
    }
  }

  async function join(connection: Connection, message: Message): Promise<void> {
    const { topic } = message;
    // As Phoenix does, a second join of a topic replaces the first.
    const previous = connection.channels.get(topic);
    if (previous) shutDown(previous, 'the channel was joined again on this connection');
    if (connection.channels.size >= MAX_CHANNELS_PER_SOCKET) {
      return reply(connection, message, 'error', { reason: `a connection may join at most ${MAX_CHANNELS_PER_SOCKET} channels` });
    }
    let spec: ChannelSpec;
    try {
      spec = channelSpec(topic, message.payload);
    } catch (error) {
      return reply(connection, message, 'error', { reason: reasonOf(error, logger) });
    }
    const channel: Channel = {
      ...spec, topic, joinRef: message.joinRef ?? message.ref ?? '', socket: connection, state: 'joining', renewals: Promise.resolve(),
    };
    connection.channels.set(topic, channel);
    try {
      await checkColumns(channel.bindings);
      const token = userToken(connection, message.payload.access_token) ?? connection.token;
      if (!token) throw new Refusal('UNAUTHENTICATED: this channel needs a signed-in user: call supabase.realtime.setAuth(<access token>) before subscribing');
      const claims = await verifyToken(token);
      checkTopicTenant(channel, claims);
      // Left or disconnected meanwhile: no need to ask the database.
      if (channel.state === 'closed') return;
      channel.subscription = await hub.subscribe({
        claims,
        onChange: (delivery) => deliver(channel, delivery),
        onEnd: (error) => shutDown(channel, `${error.code}: ${error.message}`),
      });
      channel.token = token;
    } catch (error) {
      channel.refusal ??= reasonOf(error, logger);
    }
    finishJoin(channel, message);
  }

  function finishJoin(channel: Channel, message: Message): void {
    const { socket: connection } = channel;
    if (channel.state === 'closed') {
      // Left, replaced or disconnected while joining: nothing of it may stay behind.
      channel.subscription?.close();
      return;
    }
    if (channel.refusal !== undefined) {
      channel.subscription?.close();
      closeChannel(channel);
      return reply(connection, message, 'error', { reason: channel.refusal });
    }
    channel.state = 'joined';
    connection.token = channel.token;
    if (channel.isPrivate) roomOf(channel.topic).add(channel);
    // realtime-js matches this list, in order, against its own bindings (RealtimeChannel._updatePostgresBindings).
    reply(connection, message, 'ok', { postgres_changes: channel.bindings.map((binding) => binding.reply) });
    if (channel.bindings.length > 0) system(channel, 'postgres_changes', 'ok', 'Subscribed to PostgreSQL');
    if (channel.replicationReady) system(channel, 'system', 'ok', 'Replication connection established');
  }

  /**
   * The user token in a join or access_token payload, if it is one. supabase-js without an Auth
   * session (a token given with setAuth) sends its project key instead whenever it refreshes auth
   * (on connect, on every heartbeat): that means "no new token", never "sign in with the key".
   */
  function userToken(connection: Connection, value: unknown): string | undefined {
    if (typeof value !== 'string' || value === '' || value === connection.apiKey || value.startsWith('sb_')) return undefined;
    return value;
  }

  /** Private channels are the token's tenant's: topic tenant:<tenant id>[:<anything>]. */
  function checkTopicTenant(channel: Channel, claims: RequestClaims): void {
    if (!channel.isPrivate) return;
    const topicTenant = PRIVATE_TOPIC.exec(channel.topic.slice(TOPIC_PREFIX.length))?.[1]?.toLowerCase();
    const tokenTenant = claims.app_metadata?.tenant_id;
    if (typeof tokenTenant !== 'string' || topicTenant !== tokenTenant.toLowerCase()) {
      throw new Refusal(`FORBIDDEN: this private channel belongs to tenant ${topicTenant}, not to the tenant your token names`);
    }
  }

  /** Filters and selected columns must name columns the subscriber may read: a typo would otherwise match nothing, silently. */
  async function checkColumns(bindings: readonly Binding[]): Promise<void> {
    for (const binding of bindings) {
      const named = [...binding.filter.columns, ...(binding.select ?? [])];
      if (named.length === 0) continue;
      const tables = binding.table ? [binding.table] : LIFECYCLE_TABLES;
      for (const table of tables) {
        const readable = await hub.rows.columns(table);
        const unknown = named.filter((column) => !readable.includes(column));
        if (unknown.length > 0) throw new Refusal(`VALIDATION_FAILED: public.${table} has no column ${unknown.join(', ')} you may read`);
      }
    }
  }

  function refreshToken(channel: Channel, message: Message): void {
    reply(channel.socket, message, 'ok', {});
    const token = userToken(channel.socket, message.payload.access_token);
    if (!token || token === channel.token) return;
    channel.renewals = channel.renewals
      .then(() => renew(channel, token))
      .catch((error: unknown) => logger?.error({ err: error }, 'supabase realtime: a token refresh failed'));
  }

  /** A refreshed token of the same user and tenant keeps the channel; any other ends it. */
  async function renew(channel: Channel, token: string): Promise<void> {
    try {
      const claims = await verifyToken(token);
      checkTopicTenant(channel, claims);
      // Left or disconnected meanwhile: its subscription is closed, nothing to renew.
      if (channel.state !== 'joined' || !channel.subscription) return;
      await channel.subscription.renew(claims);
      channel.token = token;
      channel.socket.token = token;
    } catch (error) {
      shutDown(channel, reasonOf(error, logger));
    }
  }

  function deliver(channel: Channel, delivery: Delivery): void {
    if (channel.state !== 'joined') return;
    for (const payload of postgresChanges(channel.bindings, delivery)) push(channel, 'postgres_changes', payload);
  }

  function onBroadcast(connection: Connection, message: Message, broadcast: Broadcast): void {
    const channel = connection.channels.get(message.topic);
    if (!channel || channel.state !== 'joined') return reply(connection, message, 'error', { reason: 'unmatched topic' });
    relay(channel, message, broadcast);
  }

  function relay(channel: Channel, message: Message, broadcast: Broadcast): void {
    if (!channel.isPrivate) {
      return reply(channel.socket, message, 'error', { reason: 'FORBIDDEN: broadcasts are served on private channels only: tenant:<tenant id> with config.private true' });
    }
    const frame = encodeUserBroadcast(channel.topic, broadcast);
    for (const member of rooms.get(channel.topic) ?? []) {
      if (member !== channel || channel.self) send(member.socket, frame);
    }
    if (channel.ack) reply(channel.socket, message, 'ok', {});
  }

  /**
   * Ends a channel from the server's side, the way Supabase Realtime does: a `system` error
   * naming the reason, then `phx_close`, which realtime-js reports to subscribe's callback as
   * CLOSED without trying to join again.
   */
  function shutDown(channel: Channel, reason: string): void {
    if (channel.state === 'closed') return;
    if (channel.state === 'joining') {
      channel.refusal = reason;
      return;
    }
    system(channel, 'system', 'error', reason);
    send(channel.socket, encodeMessage({ joinRef: channel.joinRef, ref: channel.joinRef, topic: channel.topic, event: 'phx_close', payload: {} }));
    closeChannel(channel);
  }

  function closeChannel(channel: Channel): void {
    const wasJoined = channel.state === 'joined';
    channel.state = 'closed';
    if (channel.socket.channels.get(channel.topic) === channel) channel.socket.channels.delete(channel.topic);
    const room = rooms.get(channel.topic);
    if (room?.delete(channel) && room.size === 0) rooms.delete(channel.topic);
    // A channel still joining closes its subscription when the join finishes (finishJoin).
    if (wasJoined) channel.subscription?.close();
  }

  function roomOf(topic: string): Set<Channel> {
    let room = rooms.get(topic);
    if (!room) {
      room = new Set();
      rooms.set(topic, room);
    }
    return room;
  }

  function system(channel: Channel, extension: string, status: 'ok' | 'error', message: string): void {
    push(channel, 'system', { extension, status, message, channel: channel.topic.slice(TOPIC_PREFIX.length) });
  }

  function push(channel: Channel, event: string, payload: Record<string, unknown>): void {
    send(channel.socket, encodeMessage({ joinRef: channel.joinRef, ref: null, topic: channel.topic, event, payload }));
  }

  function reply(connection: Connection, to: Message, status: 'ok' | 'error', response: Record<string, unknown>): void {
    if (to.ref === null) return;
    send(connection, encodeMessage({ joinRef: to.joinRef, ref: to.ref, topic: to.topic, event: 'phx_reply', payload: { status, response } }));
  }

  function send(connection: Connection, frame: string | Buffer): void {
    const { ws } = connection;
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      // A closing frame would queue behind what it does not read: cut it off.
      logger?.warn({ buffered: ws.bufferedAmount }, 'supabase realtime: a client does not keep up; disconnecting it');
      ws.terminate();
      return;
    }
    ws.send(frame);
  }

  return {
    handleUpgrade,
    get connections() {
      return connections.size;
    },
    async close() {
      stopping = true;
      const closed = [...connections].map(({ ws }) => new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        ws.close(CLOSE.goingAway, 'the gateway is stopping');
        // A peer that does not answer the closing handshake is cut off.
        setTimeout(() => ws.terminate(), STOP_GRACE_MS).unref();
      }));
      await Promise.all(closed);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The reason a client is shown: refusals and the gateway's own errors as they are, anything else masked and logged. */
function reasonOf(error: unknown, logger?: Logger): string {
  if (error instanceof Refusal) return error.message;
  if (error instanceof FilterError) return `VALIDATION_FAILED: ${error.message}`;
  if (error instanceof DomainError || error instanceof AuthError || error instanceof KeySourceError) return `${error.code}: ${error.message}`;
  logger?.error({ err: error }, 'supabase realtime: a channel failed');
  return 'INTERNAL: the channel could not be served; the cause is in the gateway log';
}
