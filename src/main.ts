import type { AddressInfo } from 'node:net';
import { writeDevIdentities } from './auth/dev-identities.ts';
import { signDevToken } from './auth/dev-token.ts';
import { setUpTokens } from './auth/setup.ts';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { MigrationError } from './db/migrate.ts';
import { openDatabase, type OpenedDatabase } from './db/open.ts';
import { createAdmission } from './limits/admission.ts';
import { RequestCounter } from './limits/request-counter.ts';
import { createLogger, type Logger } from './observability/logger.ts';
import { createMetrics } from './observability/metrics.ts';
import { startTracing } from './observability/tracing.ts';
import { closeGracefully, listen } from './server/http.ts';
import { createGateway } from './server/yoga.ts';
import { createProvider, describeProvider } from './ai/index.ts';
import { Worker } from './worker/worker.ts';
import { ChangeFeed } from './realtime/change-feed.ts';
import { RealtimeHub } from './realtime/hub.ts';
import { createSupabaseRealtime, SUPABASE_REALTIME_PATH } from './realtime/supabase-realtime.ts';
import { graphqlOverWebSocket } from './server/websocket.ts';

const DEMO_EMAIL = 'admin@example.com';

async function main(config: Config, logger: Logger) {
  const tracing = config.observability.otlpEndpoint
    ? startTracing({ endpoint: config.observability.otlpEndpoint, serviceName: config.observability.serviceName })
    : undefined;
  const database = await openDatabase(config);
  logger.info(describeStart(database));
  // Users of the embedded database, for development tokens; a server has none to list.
  const devIdentities =
    !config.production && database.embeddedOwner ? await writeDevIdentities(database.embeddedOwner, config.dataDir) : [];

  const tokens = await setUpTokens(config.auth, config.dataDir);
  let graphiqlHeaders: Record<string, string> | undefined;
  if (tokens.devSecret) {
    logger.info(
      `development mode: tokens are signed with the local secret in ${tokens.devSecret.file}; ` +
        'mint one with `npm run token -- --email <email> [--tenant <slug>]`',
    );
    const demo = devIdentities.find((identity) => identity.email === DEMO_EMAIL);
    if (demo) graphiqlHeaders = { Authorization: `Bearer ${await signDevToken(tokens.devSecret.secret, demo)}` };
  }

  const { limits, observability } = config;
  const ai = createProvider(config.ai);
  logger.info(`AI provider: ${describeProvider(config.ai)}`);
  // The same login as requests: each job switches to service_role for its transaction.
  const worker = config.worker.enabled
    ? new Worker({ db: database.gateway, provider: ai, logger, ...config.worker })
    : undefined;
  // One LISTEN per process, fanned out to every realtime subscriber it serves.
  const feed = new ChangeFeed(database.notifications(logger), logger);
  await feed.start();
  const realtime = new RealtimeHub(feed, database.gateway, logger);
  const counter = new RequestCounter(database.gateway, { flushIntervalMs: limits.flushIntervalMs });
  counter.start();
  const yoga = createGateway({
    db: database.gateway,
    prisma: database.prisma,
    verifyToken: tokens.verifyToken,
    logger,
    queryLimits: limits.query,
    maxBodyBytes: limits.maxBodyBytes,
    timeouts: { statementTimeoutMs: limits.statementTimeoutMs, timeoutMs: limits.requestTimeoutMs },
    admission: createAdmission(database.gateway, counter, limits.rate, logger),
    metrics: observability.metrics ? createMetrics({ pool: database.pool, realtime: () => realtime.stats }) : undefined,
    trustProxy: limits.trustProxy,
    plannedReads: config.plannedReads,
    plannedWrites: config.plannedWrites,
    plugins: tracing ? [tracing.plugin] : [],
    graphiqlHeaders,
    ai,
    realtime,
  });
  const websocket = graphqlOverWebSocket(yoga, { logger, maxPayloadBytes: limits.maxBodyBytes });
  // For @supabase/supabase-js clients pointed at the gateway: postgres_changes and broadcast.
  const supabaseRealtime = createSupabaseRealtime({ hub: realtime, verifyToken: tokens.verifyToken, logger });
  const server = await listen(yoga, config.host, config.port, {
    tracer: tracing?.tracer,
    upgrades: { '/graphql': websocket.handleUpgrade, [SUPABASE_REALTIME_PATH]: supabaseRealtime.handleUpgrade },
  });
  const { port } = server.address() as AddressInfo;
  logger.info(`GraphQL at http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}/graphql`);
  if (worker) {
    worker.start();
    logger.info(`worker ${worker.id} started (WORKER_ENABLED=false leaves background work to \`npm run worker\`)`);
  }
  await flushLogs(logger);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: finishing in-flight requests`);
    // Subscribers are told the gateway is stopping; their sockets would keep the server open.
    realtime.close();
    await Promise.all([websocket.close(), supabaseRealtime.close()]);
    await closeGracefully(server);
    await feed.stop();
    await worker?.stop();
    // The last counts of this process still count for the others.
    await counter.stop().catch((error: unknown) => logger.warn({ err: error }, 'the last rate and usage counts were not flushed'));
    await database.close();
    await tracing?.shutdown();
    logger.info('stopped');
    await flushLogs(logger);
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/** Log lines are buffered; written out before the process exits. */
const flushLogs = (logger: Logger) => new Promise<void>((resolve) => logger.flush(() => resolve()));

function describeStart({ describe, migrations, demoDataLoaded }: OpenedDatabase): string {
  return (
    `database: ${describe}; migrations applied ${migrations.applied.length}, ` +
    `already applied ${migrations.alreadyApplied}${demoDataLoaded ? '; demo data loaded' : ''}`
  );
}

let config: Config;
let logger: Logger;
try {
  config = loadConfig();
  logger = createLogger({ level: config.observability.logLevel, pretty: config.observability.prettyLogs });
} catch (error) {
  // Configuration problems are the operator's to fix: say what, not where.
  console.error(`cannot start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

main(config, logger).catch(async (error: unknown) => {
  if (error instanceof ConfigError || error instanceof MigrationError) {
    logger.fatal(`cannot start: ${error.message}`);
  } else {
    logger.fatal({ err: error }, 'cannot start');
  }
  await flushLogs(logger);
  process.exit(1);
});
