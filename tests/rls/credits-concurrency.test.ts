import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { as, claimsOf, createWorld, SERVICE, sqlState, type World } from '../support/world.ts';

// On a server every spend runs on its own pooled connection at once; on PGlite they queue.
let db: TestDatabase;
let world: World;

beforeAll(async () => {
  db = await createTestDatabase({ gatewayPoolSize: 20 });
  world = await createWorld(db.owner);
});
afterAll(() => db?.close());

describe('spend_credits under concurrency', () => {
  it('never overdraws: exactly as many spends succeed as the balance covers', async () => {
    await as(db.gateway, SERVICE, "select public.grant_credits($1, 1000, 'budget', 'GRANT', $2)", [world.a.member.id, world.a.id]);
    const claims = claimsOf(world.a.member, world.a.id);
    const outcomes = await Promise.all(
      Array.from({ length: 60 }, () => sqlState(as(db.gateway, claims, "select public.spend_credits(30, 'race')"))),
    );
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(33);
    expect(outcomes.filter((o) => o === 'GW001')).toHaveLength(27);

    const { rows } = await db.owner.query<{ total: string; min_after: string; latest: string; entries: string }>(
      `select sum(amount)::text as total, min(balance_after)::text as min_after, count(*)::text as entries,
              (array_agg(balance_after order by seq desc))[1]::text as latest
       from public.credit_transactions where user_id = $1 and tenant_id = $2`,
      [world.a.member.id, world.a.id],
    );
    expect(rows[0]).toEqual({ total: '10', min_after: '10', latest: '10', entries: '34' });
  });

  it('concurrent spends of different users do not wait on or affect each other', async () => {
    const users = [world.a.owner, world.a.admin];
    for (const user of users) {
      await as(db.gateway, SERVICE, "select public.grant_credits($1, 100, 'budget', 'GRANT', $2)", [user.id, world.a.id]);
    }
    const outcomes = await Promise.all(
      users.flatMap((user) =>
        Array.from({ length: 15 }, () => sqlState(as(db.gateway, claimsOf(user, world.a.id), "select public.spend_credits(10, 'race')"))),
      ),
    );
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(20);
    for (const user of users) {
      const [row] = await as<{ balance: string }>(db.gateway, claimsOf(user, world.a.id), 'select public.credit_balance()::text as balance');
      expect(row!.balance).toBe('0');
    }
  });
});
