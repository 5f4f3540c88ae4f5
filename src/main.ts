import type { AddressInfo } from 'node:net';
import { loadConfig } from './config.ts';
import { openDatabase } from './db/open.ts';
import { closeGracefully, listen } from './server/http.ts';
import { createGateway } from './server/yoga.ts';

const config = loadConfig();
const database = await openDatabase(config);
const { migrations } = database;
console.log(
  `database: ${database.describe}; migrations applied ${migrations.applied.length}, ` +
    `already applied ${migrations.alreadyApplied}${database.demoDataLoaded ? '; demo data loaded' : ''}`,
);

const yoga = createGateway({ db: database.gateway });
const server = await listen(yoga, config.host, config.port);
const { port } = server.address() as AddressInfo;
console.log(`GraphQL at http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}/graphql`);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: finishing in-flight requests`);
  await closeGracefully(server);
  // Closing PGlite flushes it to disk; a pg pool waits for its clients.
  await database.gateway.close();
  console.log('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
