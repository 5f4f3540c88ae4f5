import type { IncomingMessage } from 'node:http';
import type { ExecutionArgs, GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createGraphQLError } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
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

export function graphqlOverWebSocket(yoga: Gateway, options: { logger: Logger; maxPayloadBytes: number }): GraphQLWebSocket {
  const server = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes });
  useServer<Record<string, unknown> | undefined, { request: IncomingMessage }>(
    {
      // Without it a client may hold a socket open and never say who it is.
      connectionInitWaitTimeout: 10_000,
      execute: (args) => (args.rootValue as Enveloped).execute(args),
      subscribe: (args) => (args.rootValue as Enveloped).subscribe(args),
      onSubscribe: async (ctx, _id, payload) => {
        try {
          const request = asFetchRequest(ctx.extra.request, ctx.connectionParams);
          const enveloped = yoga.getEnveloped({ request, req: ctx.extra.request, params: payload });
          const document = enveloped.parse(payload.query);
          const errors = enveloped.validate(enveloped.schema, document);
          if (errors.length) return errors;
          return {
            schema: enveloped.schema,
            document,
            operationName: payload.operationName,
            variableValues: payload.variables,
            contextValue: await enveloped.contextFactory(),
            rootValue: enveloped,
          } satisfies ExecutionArgs;
        } catch (error) {
          return [asGraphQLError(error, options.logger)];
        }
      },
    },
    server,
  );
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
