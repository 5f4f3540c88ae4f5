import { readFile } from 'node:fs/promises';
import type { GraphQLEnumType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestTransaction } from '../../src/session/request-transaction.ts';
import { openPglite, prismaForPglite } from '../../src/db/pglite.ts';
import { openPostgres } from '../../src/db/postgres.ts';
import { prismaForPool } from '../../src/db/prisma.ts';
import { ERROR_CODE_NAMES, toDomainError } from '../../src/errors.ts';
import { schema } from '../../src/schema/index.ts';
import { createTestDatabase, serverUrl, type TestDatabase } from '../support/database.ts';
import { createTestGateway, tokenFor } from '../support/gateway.ts';
import { claimsOf, createWorld, type World } from '../support/world.ts';

let db: TestDatabase;
let world: World;
let api: ReturnType<typeof createTestGateway>;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
  api = createTestGateway(db);
});
afterAll(() => db?.close());

const post = (body: string, contentType = 'application/json') =>
  api.yoga.fetch('http://gateway.test/graphql', { method: 'POST', headers: { 'content-type': contentType }, body });
const codeOf = async (response: Response) => ((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code;

describe('one closed list of error codes', () => {
  it('is the schema’s ErrorCode enum, and the README documents every code', async () => {
    const values = (schema.getType('ErrorCode') as GraphQLEnumType).getValues();
    expect(values.map((value) => value.name).sort()).toEqual([...ERROR_CODE_NAMES].sort());
    expect(values.every((value) => (value.description ?? '').length > 10)).toBe(true);
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    for (const code of ERROR_CODE_NAMES) expect(readme, code).toContain(`\`${code}\``);
    for (const code of ['INTERNAL', 'AUTH_UNAVAILABLE', 'RATE_LIMITED', 'DATABASE_UNAVAILABLE']) expect(ERROR_CODE_NAMES).toContain(code);
  });

  it('errors yoga and graphql-js make get codes from the list too', async () => {
    expect(await codeOf(await post(JSON.stringify({ query: '{ viewer { ' })))).toBe('GRAPHQL_PARSE_FAILED');
    expect(await codeOf(await post(JSON.stringify({ query: '{ noSuchField }' })))).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(await codeOf(await post('{not json'))).toBe('BAD_REQUEST');
    expect(await codeOf(await post(JSON.stringify({ variables: {} })))).toBe('BAD_REQUEST');
    const get = await api.yoga.fetch('http://gateway.test/graphql?query=' + encodeURIComponent('mutation { createProject(input: { name: "x" }) { __typename } }'), {
      headers: { accept: 'application/json' },
    });
    expect(get.status).toBe(405);
    expect(await codeOf(get)).toBe('BAD_REQUEST');
  });
});

describe('a database that cannot be reached', () => {
  it('is answered 503 DATABASE_UNAVAILABLE, not masked as INTERNAL', async () => {
    let prisma;
    let gateway = db.gateway;
    let close: () => Promise<void>;
    if (db.kind === 'postgres') {
      // Nothing listens on port 1: every connection is refused.
      const unreachable = openPostgres('postgres://authenticator@127.0.0.1:1/none', { max: 1 });
      prisma = prismaForPool(unreachable.pool);
      gateway = unreachable;
      close = () => unreachable.close();
    } else {
      const pg = await openPglite();
      prisma = prismaForPglite(pg);
      await pg.close();
      close = async () => {};
    }
    try {
      const down = createTestGateway(db, { prisma, db: gateway });
      const response = await down.graphql('{ projects { totalCount } }', { token: await tokenFor(world.a.member, world.a.id) });
      expect(response.status).toBe(503);
      expect(response.body.errors?.[0]?.extensions?.code).toBe('DATABASE_UNAVAILABLE');
    } finally {
      await close();
    }
  });
});

describe('a pool with no free connection', () => {
  it.runIf(serverUrl !== undefined)('answers 503 DATABASE_UNAVAILABLE after the connection wait, then serves again', async () => {
    const { connectionString } = (db.gateway as unknown as { pool: { options: { connectionString: string } } }).pool.options;
    const single = openPostgres(connectionString, { max: 1, connectionTimeoutMs: 300 });
    const prisma = prismaForPool(single.pool);
    try {
      const busy = createTestGateway(db, { prisma, db: single });
      const token = await tokenFor(world.a.member, world.a.id);
      // One request's transaction holds the only connection.
      const holder = new RequestTransaction(prisma, claimsOf(world.a.member, world.a.id), { begin: single.begin });
      await holder.get();
      const refused = await busy.graphql('{ projects { totalCount } }', { token });
      expect(refused.status).toBe(503);
      expect(refused.body.errors?.[0]?.extensions?.code).toBe('DATABASE_UNAVAILABLE');
      await holder.finish('commit');
      const served = await busy.graphql('{ projects { totalCount } }', { token });
      expect(served.body.errors).toBeUndefined();
    } finally {
      await prisma.$disconnect();
      await single.close();
    }
  });
});

describe('the statement timeout', () => {
  // PGlite runs in one thread with no timer to cancel a statement; the server does.
  it.runIf(serverUrl !== undefined)('ends a statement that runs too long with TIMEOUT and keeps nothing', async () => {
    const transaction = new RequestTransaction(db.prisma, claimsOf(world.a.member, world.a.id), { statementTimeoutMs: 100 });
    const started = Date.now();
    const error = await transaction
      .inSavepoint((tx) => tx.$queryRawUnsafe('select pg_sleep(5)'))
      .then(() => undefined, (caught: unknown) => caught);
    await transaction.finish('rollback');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(toDomainError(error)?.code).toBe('TIMEOUT');
  });

  it.runIf(serverUrl !== undefined)('answers TIMEOUT to a query that waits too long, planned or field by field', async () => {
    const token = await tokenFor(world.a.member, world.a.id);
    const gateways = [createTestGateway(db, { timeouts: { statementTimeoutMs: 200 } }), createTestGateway(db, { timeouts: { statementTimeoutMs: 200 }, plannedReads: false })];
    // The owner holds a lock the query must wait for, longer than the statement timeout.
    await db.owner.transaction(async (tx) => {
      await tx.query('lock table public.projects in access exclusive mode');
      for (const gateway of gateways) {
        const response = await gateway.graphql('{ projects { totalCount } }', { token });
        expect(response.body.errors?.[0]?.extensions?.code).toBe('TIMEOUT');
      }
    });
  });
});
