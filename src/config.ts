import path from 'node:path';
import { DEFAULT_RATE_LIMITS, type RateLimits } from './limits/admission.ts';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_QUERY_LIMITS, type QueryLimits } from './limits/query-limits.ts';

/** Everything the gateway reads from the environment, validated once at start. */
export interface Config {
  port: number;
  host: string;
  production: boolean;
  /** Embedded PGlite data directory, used when no databaseUrl is set. */
  dataDir: string;
  /** The gateway's login: must be neither superuser nor BYPASSRLS (e.g. `authenticator`). */
  databaseUrl?: string;
  /** The owner's login for migrations and demo data; defaults to databaseUrl. */
  migrationDatabaseUrl?: string;
  poolSize: number;
  /** Named prepared statements for planned reads; off behind a pooler in transaction mode. */
  preparedStatements: boolean;
  /** Answer plannable query operations with one SQL statement (src/schema/plan). */
  plannedReads: boolean;
  plannedWrites: boolean;
  loadDemoData: boolean;
  auth: AuthConfig;
  limits: LimitsConfig;
  observability: ObservabilityConfig;
  ai: AiConfig;
  worker: WorkerConfig;
}

/** Which AI service embeds rows and queries and runs requests. */
export type AiConfig =
  | { provider: 'local'; embeddingsCacheDir?: string }
  | {
      provider: 'openai';
      /** AI_BASE_URL: an OpenAI-compatible API, up to its version (`…/v1`). */
      baseUrl: string;
      apiKey?: string;
      embeddingModel: string;
      chatModel: string;
      timeoutMs: number;
    };

/** The background worker (src/worker): in the gateway process by default, or alone (`npm run worker`). */
export interface WorkerConfig {
  /** Run the worker inside `npm start` (WORKER_ENABLED). */
  enabled: boolean;
  /** Jobs one worker runs at once. */
  concurrency: number;
  /** How often an idle worker looks for due jobs. */
  pollIntervalMs: number;
  /** How long a claimed job is the worker's; a worker that dies releases it when this runs out. */
  leaseSeconds: number;
}

/** What one request may ask for and hold, and how fast callers may send them. */
export interface LimitsConfig {
  query: QueryLimits;
  maxBodyBytes: number;
  /** statement_timeout of every request transaction. */
  statementTimeoutMs: number;
  /** Longest a request may hold its database connection. */
  requestTimeoutMs: number;
  rate: RateLimits;
  /** How often rate and usage counts are shared with the other gateway processes through the database. */
  flushIntervalMs: number;
  /** Take the client address from X-Forwarded-For. */
  trustProxy: boolean;
}

export interface ObservabilityConfig {
  logLevel: string;
  /** Human-readable log lines instead of JSON. */
  prettyLogs: boolean;
  /** Serve GET /metrics. */
  metrics: boolean;
  /** OTLP/HTTP endpoint for traces (OTEL_EXPORTER_OTLP_ENDPOINT); tracing is off without one. */
  otlpEndpoint?: URL;
  serviceName: string;
}

/** How bearer tokens are verified; with neither key, development mode makes a local secret. */
export interface AuthConfig {
  /** Supabase's legacy JWT secret (HS256). */
  jwtSecret?: string;
  /** JWKS for ES256/RS256 tokens: JWT_JWKS_URL, else SUPABASE_URL's auth endpoint. */
  jwksUrl?: URL;
  issuer?: string;
  audience: string;
}

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no'].includes(raw.toLowerCase())) return false;
  throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(raw)}`);
}

function postgresUrl(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  let protocol: string;
  try {
    protocol = new URL(raw).protocol;
  } catch {
    throw new ConfigError(`${name} must be a postgres:// URL, got something that is not a URL`);
  }
  if (protocol !== 'postgres:' && protocol !== 'postgresql:') {
    throw new ConfigError(`${name} must be a postgres:// or postgresql:// URL, got ${protocol}//…`);
  }
  return raw;
}

function httpUrl(env: NodeJS.ProcessEnv, name: string): URL | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  try {
    const url = new URL(raw);
    if (url.protocol === 'https:' || url.protocol === 'http:') return url;
  } catch {
    // fall through to the error below
  }
  throw new ConfigError(`${name} must be an http(s) URL, got ${JSON.stringify(raw)}`);
}

function loadAuthConfig(env: NodeJS.ProcessEnv, production: boolean): AuthConfig {
  const supabaseUrl = httpUrl(env, 'SUPABASE_URL');
  const supabaseBase = supabaseUrl?.toString().replace(/\/+$/, '');
  const jwtSecret = env.SUPABASE_JWT_SECRET || undefined;
  if (jwtSecret !== undefined && jwtSecret.length < 32) {
    throw new ConfigError(`SUPABASE_JWT_SECRET must be at least 32 characters, got ${jwtSecret.length}`);
  }
  const jwksUrl =
    httpUrl(env, 'JWT_JWKS_URL') ?? (supabaseBase ? new URL(`${supabaseBase}/auth/v1/.well-known/jwks.json`) : undefined);
  if (production && !jwtSecret && !jwksUrl) {
    throw new ConfigError(
      'NODE_ENV is production but no token key is configured: set SUPABASE_JWT_SECRET, JWT_JWKS_URL or SUPABASE_URL',
    );
  }
  return {
    jwtSecret,
    jwksUrl,
    issuer: env.JWT_ISSUER || (supabaseBase ? `${supabaseBase}/auth/v1` : undefined),
    audience: env.JWT_AUDIENCE || 'authenticated',
  };
}

function loadLimits(env: NodeJS.ProcessEnv): LimitsConfig {
  const query = DEFAULT_QUERY_LIMITS;
  const rate = DEFAULT_RATE_LIMITS;
  return {
    query: {
      maxDepth: integer(env, 'QUERY_MAX_DEPTH', query.maxDepth, 1, 1000),
      maxCost: integer(env, 'QUERY_MAX_COST', query.maxCost, 1, 100_000_000),
      maxAliases: integer(env, 'QUERY_MAX_ALIASES', query.maxAliases, 0, 100_000),
      maxDirectives: integer(env, 'QUERY_MAX_DIRECTIVES', query.maxDirectives, 0, 100_000),
      maxTokens: integer(env, 'QUERY_MAX_TOKENS', query.maxTokens, 10, 10_000_000),
      maxListLength: integer(env, 'QUERY_MAX_LIST_LENGTH', query.maxListLength, 1, 1_000_000),
    },
    maxBodyBytes: integer(env, 'MAX_BODY_BYTES', DEFAULT_MAX_BODY_BYTES, 1024, 1024 ** 3),
    statementTimeoutMs: integer(env, 'STATEMENT_TIMEOUT_MS', 5_000, 1, 3_600_000),
    requestTimeoutMs: integer(env, 'REQUEST_TIMEOUT_MS', 15_000, 100, 3_600_000),
    rate: {
      callerPerMinute: integer(env, 'RATE_LIMIT_CALLER_PER_MINUTE', rate.callerPerMinute, 1, 100_000_000),
      anonymousPerMinute: integer(env, 'RATE_LIMIT_ANONYMOUS_PER_MINUTE', rate.anonymousPerMinute, 1, 100_000_000),
      cacheMs: integer(env, 'ADMISSION_CACHE_MS', rate.cacheMs, 0, 3_600_000),
    },
    flushIntervalMs: integer(env, 'RATE_LIMIT_FLUSH_MS', 1_000, 50, 60_000),
    trustProxy: flag(env, 'TRUST_PROXY', false),
  };
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function loadObservability(env: NodeJS.ProcessEnv, production: boolean): ObservabilityConfig {
  const logLevel = env.LOG_LEVEL || 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}`);
  }
  return {
    logLevel,
    prettyLogs: flag(env, 'LOG_PRETTY', !production && process.stdout.isTTY === true),
    metrics: flag(env, 'METRICS_ENABLED', true),
    otlpEndpoint: httpUrl(env, 'OTEL_EXPORTER_OTLP_ENDPOINT'),
    serviceName: env.OTEL_SERVICE_NAME || 'tenant-graphql-gateway',
  };
}

const AI_PROVIDERS = ['local', 'openai'] as const;

function loadAi(env: NodeJS.ProcessEnv): AiConfig {
  const baseUrl = httpUrl(env, 'AI_BASE_URL');
  const provider = env.AI_PROVIDER || (baseUrl ? 'openai' : 'local');
  if (provider !== 'local' && provider !== 'openai') {
    throw new ConfigError(`AI_PROVIDER must be one of ${AI_PROVIDERS.join(', ')}, got ${JSON.stringify(provider)}`);
  }
  if (provider === 'local') return { provider, embeddingsCacheDir: env.EMBEDDINGS_CACHE_DIR || undefined };
  if (!baseUrl) throw new ConfigError('AI_PROVIDER is openai but AI_BASE_URL is not set (e.g. https://api.openai.com/v1)');
  return {
    provider,
    baseUrl: baseUrl.toString(),
    apiKey: env.AI_API_KEY || undefined,
    embeddingModel: env.EMBEDDING_MODEL || 'text-embedding-3-small',
    chatModel: env.CHAT_MODEL || 'gpt-4o-mini',
    timeoutMs: integer(env, 'AI_TIMEOUT_MS', 30_000, 100, 600_000),
  };
}

function loadWorker(env: NodeJS.ProcessEnv): WorkerConfig {
  return {
    enabled: flag(env, 'WORKER_ENABLED', true),
    concurrency: integer(env, 'WORKER_CONCURRENCY', 2, 1, 100),
    pollIntervalMs: integer(env, 'WORKER_POLL_MS', 1_000, 10, 60_000),
    leaseSeconds: integer(env, 'WORKER_LEASE_SECONDS', 300, 5, 86_400),
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const databaseUrl = postgresUrl(env, 'DATABASE_URL');
  const production = env.NODE_ENV === 'production';
  return {
    port: integer(env, 'PORT', 4000, 0, 65535),
    host: env.HOST || '127.0.0.1',
    production,
    dataDir: path.resolve(env.DATA_DIR || '.data'),
    databaseUrl,
    migrationDatabaseUrl: postgresUrl(env, 'MIGRATION_DATABASE_URL') ?? databaseUrl,
    poolSize: integer(env, 'DB_POOL_SIZE', 10, 1, 1000),
    preparedStatements: flag(env, 'DB_PREPARED_STATEMENTS', true),
    plannedReads: flag(env, 'PLANNED_READS', true),
    plannedWrites: flag(env, 'PLANNED_WRITES', true),
    // Demo rows belong in a sandbox, never silently in someone's real database.
    loadDemoData: flag(env, 'LOAD_DEMO_DATA', databaseUrl === undefined),
    auth: loadAuthConfig(env, production),
    limits: loadLimits(env),
    observability: loadObservability(env, production),
    ai: loadAi(env),
    worker: loadWorker(env),
  };
}
