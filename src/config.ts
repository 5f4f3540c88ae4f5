import path from 'node:path';

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
  loadDemoData: boolean;
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

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const databaseUrl = postgresUrl(env, 'DATABASE_URL');
  return {
    port: integer(env, 'PORT', 4000, 0, 65535),
    host: env.HOST || '127.0.0.1',
    production: env.NODE_ENV === 'production',
    dataDir: path.resolve(env.DATA_DIR || '.data'),
    databaseUrl,
    migrationDatabaseUrl: postgresUrl(env, 'MIGRATION_DATABASE_URL') ?? databaseUrl,
    poolSize: integer(env, 'DB_POOL_SIZE', 10, 1, 1000),
    // Demo rows belong in a sandbox, never silently in someone's real database.
    loadDemoData: flag(env, 'LOAD_DEMO_DATA', databaseUrl === undefined),
  };
}
