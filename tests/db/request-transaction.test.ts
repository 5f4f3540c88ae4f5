import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestTransaction } from '../../src/db/request-transaction.ts';
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

describe('RequestTransaction', () => {
  it('opens only when used: an operation that needs no data sends no SQL', async () => {
    const api = createTestGateway(db);
    db.statements.length = 0;
    const response = await api.graphql('{ __typename }');
    expect(response.body).toEqual({ data: { __typename: 'Query' } });
    expect(db.statements).toEqual([]);
  });

  it('applies the claims in its first statement and commits at finish', async () => {
    const transaction = new RequestTransaction(db.prisma, claimsOf(world.a.member, world.a.id));
    const tx = await transaction.get();
    const [who] = await tx.$queryRaw<{ uid: string; role: string }[]>`select auth.uid()::text as uid, current_user::text as role`;
    expect(who).toEqual({ uid: world.a.member.id, role: 'authenticated' });
    await tx.project.create({ data: { tenantId: world.a.id, userId: world.a.member.id, name: 'committed' }, select: { id: true } });
    await transaction.finish('commit');
    expect(await projectCount('committed')).toBe(1);
  });

  it('rolls back everything at finish("rollback")', async () => {
    const transaction = new RequestTransaction(db.prisma, claimsOf(world.a.member, world.a.id));
    const tx = await transaction.get();
    await tx.project.create({ data: { tenantId: world.a.id, userId: world.a.member.id, name: 'rolled back' }, select: { id: true } });
    await transaction.finish('rollback');
    expect(await projectCount('rolled back')).toBe(0);
  });

  it('refuses writes when read-only', async () => {
    const transaction = new RequestTransaction(db.prisma, claimsOf(world.a.member, world.a.id));
    transaction.setReadOnly(true);
    const tx = await transaction.get();
    await expect(
      tx.project.create({ data: { tenantId: world.a.id, userId: world.a.member.id, name: 'read only' }, select: { id: true } }),
    ).rejects.toThrow(/25006|read-only/);
    await transaction.finish('commit').catch(() => undefined);
    expect(await projectCount('read only')).toBe(0);
  });

  it('undoes a failed savepoint and keeps the rest', async () => {
    const transaction = new RequestTransaction(db.prisma, claimsOf(world.a.member, world.a.id));
    const create = (name: string) => (tx: Awaited<ReturnType<RequestTransaction['get']>>) =>
      tx.project.create({ data: { tenantId: world.a.id, userId: world.a.member.id, name }, select: { id: true } });
    await transaction.inSavepoint(create('kept savepoint'));
    await expect(
      transaction.inSavepoint(async (tx) => {
        await create('undone savepoint')(tx);
        await create('')(tx);
      }),
    ).rejects.toThrow();
    await transaction.finish('commit');
    expect(await projectCount('kept savepoint')).toBe(1);
    expect(await projectCount('undone savepoint')).toBe(0);
  });
});
