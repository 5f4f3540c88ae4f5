import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { context, propagation, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import type { Gateway } from './yoga.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Takes over a WebSocket upgrade request (GraphQL over WebSocket, Supabase Realtime). */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** Wraps each request in a server span, continuing the caller's trace (W3C traceparent) when it sent one. */
function traced(handler: Handler, tracer: Tracer): Handler {
  return (req, res) => {
    const parent = propagation.extract(context.active(), req.headers);
    const path = pathOf(req);
    const span = tracer.startSpan(
      `${req.method} ${path}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method ?? '', 'url.path': path ?? '/' } },
      parent,
    );
    res.once('close', () => {
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(parent, span), () => handler(req, res));
  };
}

/**
 * Listens on host:port and resolves once the socket is bound. WebSocket upgrades go to the
 * handler of their path; any other path is refused with 404.
 */
export function listen(
  yoga: Gateway,
  host: string,
  port: number,
  { tracer, upgrades = {} }: { tracer?: Tracer; upgrades?: Record<string, UpgradeHandler> } = {},
): Promise<Server> {
  const server = createServer(tracer ? traced(yoga, tracer) : yoga);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const handler = Object.hasOwn(upgrades, pathOf(req)) ? upgrades[pathOf(req)] : undefined;
    if (handler) return handler(req, socket, head);
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

/** Stops accepting connections and waits for in-flight requests, forcing them after graceMs. */
export function closeGracefully(server: Server, graceMs = 10_000): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}

const pathOf = (req: IncomingMessage): string => (req.url ?? '/').split('?')[0] ?? '/';
