import { createServer, type Server } from 'node:http';
import type { createGateway } from './yoga.ts';

/** Listens on host:port and resolves once the socket is bound. */
export function listen(yoga: ReturnType<typeof createGateway>, host: string, port: number): Promise<Server> {
  const server = createServer(yoga);
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
