import type { AddressInfo } from 'node:net';
import { createClient as createSseClient } from 'graphql-sse';
import { type Client, createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { postgresNotifications } from '../../src/db/notifications.ts';
import { ChangeFeed } from '../../src/realtime/change-feed.ts';
import { RealtimeHub } from '../../src/realtime/hub.ts';
import { closeGracefully, listen } from '../../src/server/http.ts';
import { graphqlOverWebSocket } from '../../src/server/websocket.ts';
import { silentLogger } from '../../src/observability/logger.ts';
import type { TestDatabase } from './database.ts';
import { createTestGateway } from './gateway.ts';
import type { GatewayOptions } from '../../src/server/yoga.ts';

/** A gateway with realtime on a real port: its own change feed (LISTEN) and hub, as one process has. */
export async function startRealtimeGateway(db: TestDatabase, options: Partial<GatewayOptions> = {}) {
  const feed = new ChangeFeed(db.urls ? postgresNotifications(db.urls.gateway) : { listen: db.listen });
  await feed.start();
  const hub = new RealtimeHub(feed, db.gateway);
  const api = createTestGateway(db, { realtime: hub, ...options });
  const websocket = graphqlOverWebSocket(api.yoga, { logger: silentLogger, maxPayloadBytes: 100_000 });
  const server = await listen(api.yoga, '127.0.0.1', 0, { upgrades: { '/graphql': websocket.handleUpgrade } });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    hub,
    feed,
    websocket,
    api,
    async close() {
      hub.close();
      await websocket.close();
      await closeGracefully(server, 1_000);
      await feed.stop();
    },
  };
}
export type RealtimeGateway = Awaited<ReturnType<typeof startRealtimeGateway>>;

export interface Received<Data = Record<string, unknown>> {
  events: { data?: Data | null; errors?: readonly { message: string; extensions?: { code?: string } }[] }[];
  /** Resolves when the server completes the operation (or refuses it). */
  done: Promise<void>;
  dispose(): void;
}

type Sink = Parameters<Client['subscribe']>[1];

function receive<Data>(subscribe: (sink: Sink) => () => void): Received<Data> {
  const events: Received<Data>['events'] = [];
  let dispose = () => {};
  const done = new Promise<void>((resolve) => {
    dispose = subscribe({
      next: (value) => void events.push(value as Received<Data>['events'][number]),
      error: (error) => {
        const errors = Array.isArray(error) ? error : [{ message: String((error as Error)?.message ?? error) }];
        events.push({ errors });
        resolve();
      },
      complete: () => resolve(),
    });
  });
  return { events, done, dispose: () => dispose() };
}

/** A graphql-ws (graphql-transport-ws) client, its credential in connection_init. */
export function overWebSocket(gateway: RealtimeGateway, token?: string): Client {
  return createWsClient({
    url: `${gateway.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : undefined,
    retryAttempts: 0,
  });
}

export function subscribeOverWebSocket<Data = Record<string, unknown>>(
  client: Client,
  query: string,
  variables?: Record<string, unknown>,
): Received<Data> {
  return receive<Data>((sink) => client.subscribe({ query, variables }, sink));
}

/** GraphQL over SSE (distinct connections: one request per subscription), the credential in a header. */
export function subscribeOverSse<Data = Record<string, unknown>>(
  gateway: RealtimeGateway,
  token: string | undefined,
  query: string,
  variables?: Record<string, unknown>,
): Received<Data> {
  const client = createSseClient({
    url: `${gateway.url}/graphql`,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
  });
  const received = receive<Data>((sink) => client.subscribe({ query, variables }, sink as never));
  return { ...received, dispose: () => (received.dispose(), client.dispose()) };
}

/** One figure of a gateway's /metrics (the realtime gauges and counters), NaN when absent. */
export async function realtimeMetric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
}
