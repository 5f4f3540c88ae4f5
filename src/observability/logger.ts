import pino, { type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  /** Human-readable lines (pino-pretty) instead of JSON; for development terminals. */
  pretty?: boolean;
  /** Where lines go; tests pass a stream they read back. */
  destination?: pino.DestinationStream;
}

/** Credentials never reach a log line, whichever field they hide in. */
const REDACT = [
  'authorization',
  'headers.authorization',
  'headers["x-api-key"]',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'token',
  'secret',
  'apiKey',
];

/** The process's logger: JSON lines (one per request, plus start-up and failures), or pretty in development. */
export function createLogger({ level = 'info', pretty = false, destination }: LoggerOptions = {}): Logger {
  const options: pino.LoggerOptions = { level, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: 'tenant-graphql-gateway' } };
  if (destination) return pino(options, destination);
  if (pretty) return pino({ ...options, transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,service' } } });
  // Buffered: a synchronous write per request line costs the event loop more than the request's own work.
  // Lines wait at most a second for the buffer to fill.
  const logger = pino(options, pino.destination({ dest: 1, sync: false, minLength: 4096 }));
  setInterval(() => logger.flush(), 1_000).unref();
  return logger;
}

/** A logger that writes nothing, for tests that do not read logs. */
export const silentLogger: Logger = pino({ level: 'silent' });
