import { PGlite, type Transaction } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { withStatementSpan } from '../observability/tracing.ts';
import type { Database, Queryable } from './database.ts';
import { createPrisma, type PrismaClient, type StatementListener } from './prisma.ts';

/** The role the embedded gateway drops to once migrations have run as the built-in superuser. */
const GATEWAY_ROLE = 'authenticator';

function wrap(target: PGlite | Transaction): Queryable {
  return {
    async query(text, params) {
      const result = await withStatementSpan(text, () => target.query(text, params as unknown[] | undefined));
      return { rows: result.rows as never[] };
    },
    async exec(script) {
      await target.exec(script);
    },
  };
}

function asDatabase(pg: PGlite, prelude?: string): Database {
  const transaction: Database['transaction'] = (fn, opening) =>
    pg.transaction(async (tx) => {
      const script = [prelude, opening].filter(Boolean).join('; ');
      if (script) await tx.exec(script);
      return fn(wrap(tx));
    });
  // With a prelude, even a lone statement needs the transaction that scopes it.
  const direct = prelude
    ? { query: ((text, params) => transaction((tx) => tx.query(text, params))) as Queryable['query'],
        exec: (script: string) => transaction((tx) => tx.exec(script)) }
    : wrap(pg);
  return {
    kind: 'pglite',
    ...direct,
    transaction,
    close: async () => {
      if (!pg.closed) await pg.close();
    },
  };
}

/** Embedded Postgres with pgvector; `dataDir` persists on disk, undefined keeps it in memory. */
export async function openPglite(dataDir?: string): Promise<PGlite> {
  return PGlite.create(dataDir, { extensions: { vector } });
}

/**
 * PGlite has a single built-in superuser login, so one instance serves two handles:
 * `owner` runs as that superuser (migrations, seeds), `gateway` runs as `authenticator`,
 * which is neither superuser nor BYPASSRLS. Call after migrations have created the role.
 */
export async function pgliteHandles(pg: PGlite): Promise<{ owner: Database; gateway: Database }> {
  await pg.exec(`set session authorization ${GATEWAY_ROLE}`);
  return {
    // SET LOCAL reverts at commit or rollback; allowed because the login user is a superuser.
    owner: asDatabase(pg, 'set local session authorization postgres'),
    gateway: asDatabase(pg),
  };
}

/** A handle on the superuser session, for the migration step before any role switch. */
export function pgliteOwner(pg: PGlite): Database {
  return asDatabase(pg);
}

/** Prisma over the embedded database's gateway session (already `authenticator`). */
export function prismaForPglite(pg: PGlite, onStatement?: StatementListener): PrismaClient {
  return createPrisma(new PrismaPGlite(pg), onStatement);
}
