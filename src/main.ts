import type { AddressInfo } from 'node:net';
import { signDevToken } from './auth/dev-token.ts';
import { setUpTokens } from './auth/setup.ts';
import { ConfigError, loadConfig } from './config.ts';
import { MigrationError } from './db/migrate.ts';
import { openDatabase, type OpenedDatabase } from './db/open.ts';
import { closeGracefully, listen } from './server/http.ts';
import { createGateway } from './server/yoga.ts';

const DEMO_EMAIL = 'admin@example.com';

async function main() {
  const config = loadConfig();
  const database = await openDatabase(config);
  console.log(describeStart(database));

  const tokens = await setUpTokens(config.auth, config.dataDir);
  let graphiqlHeaders: Record<string, string> | undefined;
  if (tokens.devSecret) {
    console.log(
      `development mode: tokens are signed with the local secret in ${tokens.devSecret.file}; ` +
        'mint one with `npm run token -- --email <email> [--tenant <slug>]`',
    );
    const demo = database.devIdentities.find((identity) => identity.email === DEMO_EMAIL);
    if (demo) graphiqlHeaders = { Authorization: `Bearer ${await signDevToken(tokens.devSecret.secret, demo)}` };
  }

  const yoga = createGateway({ db: database.gateway, prisma: database.prisma, verifyToken: tokens.verifyToken, graphiqlHeaders });
  const server = await listen(yoga, config.host, config.port);
  const { port } = server.address() as AddressInfo;
  console.log(`GraphQL at http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}/graphql`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: finishing in-flight requests`);
    await closeGracefully(server);
    await database.close();
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
