import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestTransaction } from '../../src/session/request-transaction.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createTestGateway } from '../support/gateway.ts';
import { claimsOf, createWorld, type World } from '../support/world.ts';

let db: TestDatabase;
let world: World;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
});
afterAll(() => db?.close());

const projectCount = async (name: string) =>
  Number((await db.owner.query<{ n: string }>('select count(*)::text as n from public.projects where name = $1', [name])).rows[0]!.n);

// Both ways a transaction opens: Prisma's BEGIN then the claims, or (on a server) BEGIN and the
// claims in one round trip on a connection then lent to Prisma.
const OPENINGS = [
  { name: 'claims after BEGIN', begin: () => undefined },
  ...(process.env.DATABASE_URL ? [{ name: 'BEGIN with the claims, one round trip', begin: () => db.gateway.begin }] : []),
];

describe.each(OPENINGS)('RequestTransaction ($name)', ({ name: opening, begin }) => {
  const open = (claims: Parameters<typeof claimsOf> = [world.a.member, world.a.id], options = {}) =>
    new RequestTransaction(db.prisma, claimsOf(...claims), { begin: begin(), ...options });

  it('opens only when used: an operation that needs no data sends no SQL', async () => {
    const api = createTestGateway(db);
    db.statements.length = 0;
    const response = await api.graphql('{ __typename }');
    expect(response.body).toEqual({ data: { __typename: 'Query' } });
    expect(db.statements).toEqual([]);
  });

  it('applies the claims in its first statement and commits at finish', async () => {
    const transaction = open();
    const tx = await transaction.get();
    const [who] = await tx.$queryRaw<{ uid: string; role: string }[]>`select auth.uid()::text as uid, current_user::text as role`;
    expect(who).toEqual({ uid: world.a.member.id, role: 'authenticated' });
    await tx.project.create({ data: { tenantId: world.a.id, userId: world.a.member.id, name: `committed (${opening})` }, select: { id: true } });
    await transaction.finish('commit');
    expect(await projectCount(`committed (${opening})`)).toBe(1);
  });

  it('runs its own statements as the caller without Prisma, and ends the transaction itself', async () => {
    const { pool } = db.gateway as unknown as { pool?: { idleCount: number; totalCount: number } };
    for (const outcome of ['commit', 'rollback'] as const) {
      const transaction = open();
      const [who] = await transaction.query<{ uid: string; role: string }>('select auth.uid()::text as uid, current_user::text as role', []);
      expect(who).toEqual({ uid: world.a.member.id, role: 'authenticated' });
      const name = `own statement, ${outcome} (${opening})`;
      await transaction.query('insert into public.projects (tenant_id, user_id, name) values ($1, $2, $3)', [world.a.id, world.a.member.id, name]);
      await transaction.finish(outcome);
      expect(await projectCount(name)).toBe(outcome === 'commit' ? 1 : 0);
    }
    // Given back healthy: the next transaction reuses an idle connection as the caller it names.
    if (pool) expect(pool.idleCount).toBeGreaterThan(0);
    const transaction = open([world.b.owner, world.b.id]);
    const [who] = await transaction.query<{ uid: string }>('select auth.uid()::text as uid', []);
    await transaction.finish('commit');
    expect(who!.uid).toBe(world.b.owner.id);
  });

  it('rolls back everything at finish("rollback")', async () => {
    const transaction = open();
    const tx = await transaction.get();
    await tx.project.create({ data: { tenantId: world.a.id, userId: world.a.member.id, name: `rolled back (${opening})` }, select: { id: true } });
    await transaction.finish('rollback');
    expect(await projectCount(`rolled back (${opening})`)).toBe(0);
  });

  it('refuses writes when read-only', async () => {
    const transaction = open();
    transaction.setReadOnly(true);
    const tx = await transaction.get();
    await expect(
      tx.project.create({ data: { tenantId: world.a.id, userId: world.a.member.id, name: `read only (${opening})` }, select: { id: true } }),
    ).rejects.toThrow(/25006|read-only/);
    await transaction.finish('commit').catch(() => undefined);
    expect(await projectCount(`read only (${opening})`)).toBe(0);
  });

  it('undoes a failed savepoint and keeps the rest', async () => {
    const transaction = open();
    const create = (name: string) => (tx: Awaited<ReturnType<RequestTransaction['get']>>) =>
      tx.project.create({ data: { tenantId: world.a.id, userId: world.a.member.id, name }, select: { id: true } });
    await transaction.inSavepoint(create(`kept savepoint (${opening})`));
    await expect(
      transaction.inSavepoint(async (tx) => {
        await create(`undone savepoint (${opening})`)(tx);
        await create('')(tx);
      }),
    ).rejects.toThrow();
    await transaction.finish('commit');
    expect(await projectCount(`kept savepoint (${opening})`)).toBe(1);
    expect(await projectCount(`undone savepoint (${opening})`)).toBe(0);
  });

  it('as the one mutation of an operation, writes without a savepoint and rolls back whole when it fails', async () => {
    const create = (name: string) => (tx: Awaited<ReturnType<RequestTransaction['get']>>) =>
      tx.project.create({ data: { tenantId: world.a.id, userId: world.a.member.id, name }, select: { id: true } });
    const failing = open();
    failing.setSoleMutation();
    db.statements.length = 0;
    await expect(
      failing.inSavepoint(async (tx) => {
        await create(`sole, then failed (${opening})`)(tx);
        // A refusal decided in the gateway after a write: the write must not survive it.
        throw new Error('refused after writing');
      }),
    ).rejects.toThrow('refused after writing');
    await failing.finish('commit');
    expect(db.statements.some((sql) => /savepoint/i.test(sql))).toBe(false);
    expect(await projectCount(`sole, then failed (${opening})`)).toBe(0);

    // A second call in the same operation takes a real savepoint, so the first's writes stand.
    const twice = open();
    twice.setSoleMutation();
    await twice.inSavepoint(create(`sole, kept (${opening})`));
    await expect(twice.inSavepoint(async (tx) => create('')(tx))).rejects.toThrow();
    await twice.finish('commit');
    expect(await projectCount(`sole, kept (${opening})`)).toBe(1);
  });

  it('gives each of many concurrent transactions its own claims, quoted exactly', async () => {
    const callers = [
      [world.a.member, world.a.id],
      [world.b.owner, world.b.id],
      [world.a.owner, world.a.id],
    ] as const;
    const runs = Array.from({ length: 24 }, async (_, i) => {
      const [user, tenantId] = callers[i % callers.length]!;
      // A claim no literal quoting may mangle: quotes, a backslash, a semicolon.
      const odd = `o'brien\\'; select 1; --${i}`;
      const transaction = new RequestTransaction(db.prisma, { ...claimsOf(user, tenantId), odd }, { begin: begin() });
      const tx = await transaction.get();
      const [row] = await tx.$queryRaw<{ uid: string; tenant: string; odd: string }[]>`
        select auth.uid()::text as uid, private.active_tenant_id()::text as tenant,
               current_setting('request.jwt.claims', true)::jsonb ->> 'odd' as odd`;
      await transaction.finish('commit');
      expect(row).toEqual({ uid: user.id, tenant: tenantId, odd });
    });
    await Promise.all(runs);
  });

  it('opens once however many resolvers ask at the same time', async () => {
    const transaction = open();
    const clients = await Promise.all(Array.from({ length: 5 }, () => transaction.get()));
    expect(new Set(clients).size).toBe(1);
    await transaction.finish('commit');
  });
});

describe('Database.begin', () => {
  it.runIf(process.env.DATABASE_URL)('lends its connection once: a second request for one inside the loan fails', async () => {
    const connection = await db.gateway.begin!('begin; select 1');
    const pool = (db.gateway as unknown as { pool: { connect(): Promise<{ release(): void; query(sql: string): Promise<unknown> }> } }).pool;
    await connection.lend(async () => {
      const first = await pool.connect();
      await expect(pool.connect()).rejects.toThrow(/already taken/);
      await first.query('rollback');
      first.release();
    });
    connection.release();
  });
});
