import type { GatewayContext } from './context.ts';
import { guardTransactionClient } from './request-client.ts';
import type { TransactionClient } from './request-transaction.ts';
import { DomainError, toDomainError } from '../errors.ts';
import { isSignedIn } from './claims.ts';

/**
 * Runs a mutation's writes in a savepoint of the request transaction: on any failure they
 * are undone, and a database refusal becomes the DomainError the result union reports.
 */
export async function runMutation<T>(ctx: GatewayContext, fn: (tx: TransactionClient) => Promise<T>): Promise<T> {
  try {
    return await ctx.transaction.inSavepoint((tx) => fn(guardTransactionClient(tx)));
  } catch (error) {
    throw toDomainError(error) ?? error;
  }
}

/**
 * The fields of a partial update, refused when it sets nothing: Prisma would only read the
 * row, so a caller who may not write it would be told the update succeeded.
 */
export function requireChanges<Data extends object>(data: Data): Data {
  if (!Object.values(data).some((value) => value !== undefined)) {
    throw new DomainError('VALIDATION_FAILED', 'expected at least one field to set in input, received none');
  }
  return data;
}

/** The signed-in caller's user id, or UNAUTHENTICATED. */
export function requireUserId(ctx: GatewayContext): string {
  if (!isSignedIn(ctx.claims)) throw new DomainError('UNAUTHENTICATED', 'sign in to do this');
  return ctx.claims.sub;
}

/** The active tenant the database agrees the caller belongs to, or FORBIDDEN. */
export async function requireTenantId(ctx: GatewayContext): Promise<string> {
  requireUserId(ctx);
  const { tenantId } = await ctx.loaders.caller();
  if (!tenantId) {
    throw new DomainError('FORBIDDEN', 'no active tenant: the token names no tenant you belong to (see X-Tenant-Id)');
  }
  return tenantId;
}
