import type { IncomingMessage } from 'node:http';
import type { ExecutionArgs, ExecutionResult, GraphQLError } from 'graphql';
import { CloseCode, handleProtocols, makeServer, type ServerOptions } from 'graphql-ws';
import { createGraphQLError } from 'graphql-yoga';
import { type WebSocket, WebSocketServer } from 'ws';
import { DomainError, isErrorCode } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { UpgradeHandler } from './http.ts';
import type { Gateway } from './yoga.ts';

// GraphQL over WebSocket (the graphql-transport-ws protocol of graphql-ws) on /graphql, run by
// the same envelop as HTTP: the same context (authentication, admission), limits, transaction
// handling and error masking. Credentials come from the connection_init payload's
// `authorization` (browsers cannot set headers on a WebSocket), else the upgrade request's.

export interface GraphQLWebSocket {
  handleUpgrade: UpgradeHandler;
  readonly connections: number;
  close(): Promise<void>;
}

type Enveloped = ReturnType<Gateway['getEnveloped']>;

/** What graphql-ws keeps of each connection: its upgrade request, and sending on its socket. */
interface Extra {
  request: IncomingMessage;
  send: (data: string) => void;
}

/** Past this much unsent data the client is not reading: it is disconnected rather than buffered for. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** A ping this often; a client that has not answered the previous one by the next is gone. */
const KEEP_ALIVE_MS = 12_000;

export function graphqlOverWebSocket(yoga: Gateway, options: { logger: Logger; maxPayloadBytes: number }): GraphQLWebSocket {
  const { logger } = options;
  const server = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes, handleProtocols });
  const protocol = makeServer<Record<string, unknown> | undefined, Extra>({
    // Without it a client may hold a socket open and never say who it is.
    connectionInitWaitTimeout: 10_000,
    execute: (args) => (args.rootValue as Enveloped).execute(args),
    subscribe: (args) => (args.rootValue as Enveloped).subscribe(args),
    onSubscribe: async (ctx, id, payload) => {
      try {
        const request = asFetchRequest(ctx.extra.request, ctx.connectionParams);
        const enveloped = yoga.getEnveloped({ request, req: ctx.extra.request, params: payload });
        const document = enveloped.parse(payload.query);
        const errors = enveloped.validate(enveloped.schema, document);
        if (errors.length) return errors;
        const contextValue = await enveloped.contextFactory();
        // A subscription's error-free results may be sent here directly (src/realtime/shared-results.ts),
        // as graphql-ws would send them, while the client still follows the operation.
        const next = nextMessage(id);
        contextValue.sendResult = (result) => {
          if (id in ctx.subscriptions) ctx.extra.send(next(result));
        };
        return {
          schema: enveloped.schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue,
          rootValue: enveloped,
        } satisfies ExecutionArgs;
      } catch (error) {
        return [asGraphQLError(error, logger)];
      }
    },
  } satisfies ServerOptions<Record<string, unknown> | undefined, Extra>);
  server.on('connection', (socket: WebSocket, request: IncomingMessage) => serve(socket, request));

  // graphql-ws's own adapter for ws, but for send: one subscriber's message is handed to the
  // socket without waiting for the kernel to take it (fan-out sends thousands a second), and a
  // client that stops reading is cut off when its unsent data passes MAX_BUFFERED_BYTES.
  function serve(socket: WebSocket, request: IncomingMessage): void {
    socket.once('error', (error) => {
      logger.warn({ err: error }, 'websocket: socket error');
      socket.terminate();
    });
    let alive = true;
    const keepAlive = setInterval(() => {
      if (!alive) return socket.terminate();
      alive = false;
      socket.ping();
    }, KEEP_ALIVE_MS);
    socket.on('pong', () => (alive = true));
    const send = (data: string) => {
      if (socket.readyState !== socket.OPEN) return;
      if (socket.bufferedAmount > MAX_BUFFERED_BYTES) return socket.terminate();
      socket.send(data);
    };
    const closed = protocol.opened(
      {
        protocol: socket.protocol,
        send,
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on('message', (data) => {
            handle(String(data)).catch((error: unknown) => {
              logger.error({ err: error }, 'websocket: a message could not be handled');
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            });
          }),
      },
      { request, send },
    );
    socket.once('close', (code, reason) => {
      clearInterval(keepAlive);
      void closed(code, String(reason));
    });
  }

  return {
    handleUpgrade: (req, socket, head) => server.handleUpgrade(req, socket, head, (ws) => server.emit('connection', ws, req)),
    get connections() {
      return server.clients.size;
    },
    close: () =>
      new Promise((resolve) => {
        for (const client of server.clients) client.close(1001, 'the gateway is stopping');
        server.close(() => resolve());
      }),
  };
}

/** A result serialised once, however many subscribers it is sent to. */
const serialised = new WeakMap<ExecutionResult, string>();

/** graphql-ws's `next` messages of one operation for error-free results (the same text its own loop would send). */
function nextMessage(id: string): (result: ExecutionResult) => string {
  const head = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
  return (result) => {
    let payload = serialised.get(result);
    if (payload === undefined) serialised.set(result, (payload = JSON.stringify(result)));
    return `${head}${payload}}`;
  };
}

/** The upgrade request as a fetch Request, with the connection_init credential in its headers. */
function asFetchRequest(req: IncomingMessage, params: Record<string, unknown> | undefined): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string') headers.set(name, value);
  }
  const authorization = params?.authorization ?? params?.Authorization;
  if (typeof authorization === 'string') headers.set('authorization', authorization);
  const apiKey = params?.['x-api-key'];
  if (typeof apiKey === 'string') headers.set('x-api-key', apiKey);
  return new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/graphql'}`, { headers });
}

/** Refusals (authentication, admission, parsing) keep their code; anything else is INTERNAL. */
function asGraphQLError(error: unknown, logger: Logger): GraphQLError {
  if (error instanceof DomainError) return createGraphQLError(error.message, { extensions: { code: error.code } });
  if (error instanceof Error && error.name === 'GraphQLError') {
    const graphQLError = error as GraphQLError;
    const code = graphQLError.extensions?.code;
    // Only the code: HTTP statuses and headers mean nothing on a socket.
    if (isErrorCode(code)) return createGraphQLError(graphQLError.message, { extensions: { code } });
    return createGraphQLError(graphQLError.message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } });
  }
  logger.error({ err: error }, 'websocket: could not start an operation');
  return createGraphQLError('Unexpected error.', { extensions: { code: 'INTERNAL' } });
}
