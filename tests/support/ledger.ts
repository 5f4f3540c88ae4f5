import type { Database } from '../../src/db/database.ts';

/** Credits granted directly in the ledger, as the owner, for tests that spend them. */
export function grantCredits(owner: Database, tenantId: string, userId: string, amount: number) {
  return owner.query("select private.append_credit_entry($1, $2, $3, 'GRANT', 'test', '{}')", [tenantId, userId, amount]);
}

/** A member's balance in a tenant: the last ledger entry's balance_after, 0 before any. */
export async function creditBalance(owner: Database, tenantId: string, userId: string): Promise<number> {
  const { rows } = await owner.query<{ b: string }>(
    'select coalesce((select balance_after from public.credit_transactions where tenant_id = $1 and user_id = $2 order by seq desc limit 1), 0)::text as b',
    [tenantId, userId],
  );
  return Number(rows[0]!.b);
}

/** A tenant's undistributed credits: the last pool entry's balance_after, 0 before any. */
export async function poolBalance(owner: Database, tenantId: string): Promise<number> {
  const { rows } = await owner.query<{ b: string }>(
    'select coalesce((select balance_after from public.credit_transactions where tenant_id = $1 and user_id is null order by seq desc limit 1), 0)::text as b',
    [tenantId],
  );
  return Number(rows[0]!.b);
}
