import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { applyBootstrapIfMissing } from './bootstrap.ts';
import type { Database } from './database.ts';
import { MIGRATIONS_DIR } from './paths.ts';

/** A migration file `YYYYMMDDHHmmss_name.sql`, as the Supabase CLI names them. */
export interface MigrationFile {
  version: string;
  name: string;
  sql: string;
}

export interface MigrationReport {
  bootstrapped: boolean;
  applied: string[];
  alreadyApplied: number;
}

export class MigrationError extends Error {
  constructor(
    readonly code: 'MIGRATION_CHANGED' | 'MIGRATION_FAILED' | 'MIGRATION_NAME_INVALID',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

const FILE_NAME = /^(\d{14})_([a-z0-9_]+)\.sql$/;

// The Supabase CLI's own history table, so `supabase migration list` agrees with this runner.
const HISTORY_DDL = `
  create schema if not exists supabase_migrations;
  create table if not exists supabase_migrations.schema_migrations (
    version text not null primary key,
    statements text[],
    name text
  );`;

export async function readMigrations(dir = MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const names = (await readdir(dir)).filter((name) => name.endsWith('.sql')).sort();
  return Promise.all(
    names.map(async (fileName) => {
      const match = FILE_NAME.exec(fileName);
      if (!match) {
        throw new MigrationError(
          'MIGRATION_NAME_INVALID',
          `migration file names must look like YYYYMMDDHHmmss_topic.sql, got ${fileName}`,
        );
      }
      return { version: match[1]!, name: match[2]!, sql: await readFile(path.join(dir, fileName), 'utf8') };
    }),
  );
}

/**
 * Fingerprint that ignores whitespace and statement separators, so a file applied by the
 * Supabase CLI (which stores it split into statements) matches the same file read whole.
 */
export function fingerprint(statements: readonly string[]): string {
  return createHash('sha256').update(statements.join('').replace(/[\s;]+/g, '')).digest('hex');
}

/**
 * Applies pending migrations in version order, each in its own transaction together with
 * its history row. Refuses to continue when an applied file has changed since.
 */
export async function migrate(db: Database, files?: MigrationFile[]): Promise<MigrationReport> {
  const migrations = files ?? (await readMigrations());
  return withMigrationLock(db, async () => {
    const bootstrapped = await applyBootstrapIfMissing(db);
    await db.exec(HISTORY_DDL);
    const { rows } = await db.query<{ version: string; statements: string[] | null }>(
      'select version, statements from supabase_migrations.schema_migrations',
    );
    const applied = new Map(rows.map((row) => [row.version, row.statements ?? []]));
    const report: MigrationReport = { bootstrapped, applied: [], alreadyApplied: 0 };
    for (const file of migrations) {
      const recorded = applied.get(file.version);
      if (recorded) {
        if (recorded.length > 0 && fingerprint(recorded) !== fingerprint([file.sql])) {
          throw new MigrationError(
            'MIGRATION_CHANGED',
            `migration ${file.version}_${file.name} was changed after it was applied; ` +
              'add a new migration instead of editing an applied one',
          );
        }
        report.alreadyApplied += 1;
        continue;
      }
      await applyOne(db, file);
      report.applied.push(`${file.version}_${file.name}`);
    }
    return report;
  });
}

async function applyOne(db: Database, file: MigrationFile): Promise<void> {
  try {
    await db.transaction(async (tx) => {
      await tx.exec(file.sql);
      await tx.query(
        'insert into supabase_migrations.schema_migrations (version, statements, name) values ($1, $2, $3)',
        [file.version, [file.sql], file.name],
      );
    });
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    // The driver's error carries the whole script; keep the report to what failed and why.
    throw new MigrationError('MIGRATION_FAILED', `migration ${file.version}_${file.name} failed: ${reason}`);
  }
}

// Two gateways starting against one server must not apply the same file twice.
async function withMigrationLock<T>(db: Database, fn: () => Promise<T>): Promise<T> {
  if (db.kind === 'pglite') return fn();
  const key = "hashtext('supabase_migrations')";
  // Held by one pooled connection for the whole run while the files apply on others.
  return db.transaction(async (tx) => {
    await tx.query(`select pg_advisory_xact_lock(${key})`);
    return fn();
  });
}
