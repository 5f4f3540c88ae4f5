import { ConfigError, loadConfig } from '../config.ts';
import { openDatabase } from '../db/open.ts';
import { createLogger } from '../observability/logger.ts';
import { createProvider, describeProvider } from '../ai/index.ts';
import { Worker } from './worker.ts';

// `npm run worker`: the background worker alone, so it scales apart from the gateway. Any
// number may run against one database; each job is held by one of them at a time.
const config = loadConfig();
const logger = createLogger({ level: config.observability.logLevel, pretty: config.observability.prettyLogs });
if (!config.databaseUrl) {
  // The embedded database belongs to the one process that opened it.
  logger.fatal(new ConfigError('npm run worker needs DATABASE_URL; with the embedded database the worker runs inside npm start').message);
  process.exit(1);
}
const database = await openDatabase({ ...config, loadDemoData: false });
const worker = new Worker({ db: database.gateway, provider: createProvider(config.ai), logger, ...config.worker });
worker.start();
logger.info(`worker ${worker.id} started; AI provider: ${describeProvider(config.ai)}`);

const shutdown = async (signal: string) => {
  logger.info(`${signal}: finishing the jobs in hand`);
  await worker.stop();
  await database.close();
  logger.flush(() => process.exit(0));
};
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
