import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig } from './config.ts';
import { openDatabase, type OpenedDatabase } from './db/open.ts';
import { MigrationError } from './db/migrate.ts';
import { closeGracefully, listen } from './server/http.ts';
import { createGateway } from './server/yoga.ts';

async function main() {
  const config = loadConfig();
  const database = await openDatabase(config);
  console.log(describeStart(database));

  const yoga = createGateway({ db: database.gateway });
  const server = await listen(yoga, config.host, config.port);
  const { port } = server.address() as AddressInfo;
  console.log(`GraphQL at http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}/graphql`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: finishing in-flight requests`);
    await closeGracefully(server);
    // Closing PGlite flushes it to disk; a pg pool waits for its clients.
    await database.gateway.close();
    console.log('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

function describeStart({ describe, migrations, demoDataLoaded }: OpenedDatabase): string {
  return (
    `database: ${describe}; migrations applied ${migrations.applied.length}, ` +
    `already applied ${migrations.alreadyApplied}${demoDataLoaded ? '; demo data loaded' : ''}`
  );
}

main().catch((error: unknown) => {
  // Configuration and migration problems are the operator's to fix: say what, not where.
  if (error instanceof ConfigError || error instanceof MigrationError) {
    console.error(`cannot start: ${error.message}`);
  } else {
    console.error('cannot start:', error);
  }
  process.exit(1);
});
