import DataLoader from 'dataloader';
import type { RequestTransaction } from '../request-transaction.ts';
import { createFindUniqueLoader } from './find-unique.ts';

export type TenantRole = 'VIEWER' | 'MEMBER' | 'ADMIN' | 'OWNER';
export const TENANT_ROLES: readonly TenantRole[] = ['VIEWER', 'MEMBER', 'ADMIN', 'OWNER'];

/** Per-request loaders; each batch runs inside the request's transaction, as the caller. */
export function createLoaders(transaction: RequestTransaction) {
  const client = () => transaction.get();

  // The caller's facts the policies use, read once per request through the same helpers.
  const caller = new DataLoader<'caller', { tenantId: string | null; role: TenantRole | null; balance: number }>(
    async (keys) => {
      if (transaction.claims.role !== 'authenticated') return keys.map(() => ({ tenantId: null, role: null, balance: 0 }));
      const tx = await client();
      const [row] = await tx.$queryRaw<{ tenant_id: string | null; role: TenantRole | null; balance: bigint | number }[]>`
        select private.active_tenant_id() as tenant_id, private.active_tenant_role()::text as role,
               public.credit_balance() as balance`;
      const facts = { tenantId: row?.tenant_id ?? null, role: row?.role ?? null, balance: Number(row?.balance ?? 0) };
      return keys.map(() => facts);
    },
  );

  return {
    findUnique: createFindUniqueLoader(client),
    caller: () => caller.load('caller'),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
