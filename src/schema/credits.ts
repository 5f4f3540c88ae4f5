import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { GatewayContext } from '../context.ts';
import type { TransactionClient } from '../db/request-transaction.ts';
import type { AnalysisType, GenerationType } from '../generated/prisma/enums.ts';
import { requireTenantId, requireUserId, runMutation } from './mutation.ts';

/** Credits one analysis costs, by type; charged when it is requested. */
export const ANALYSIS_CREDIT_COST: Readonly<Record<AnalysisType, number>> = {
  TEXT_ANALYSIS: 10,
  SENTIMENT_ANALYSIS: 10,
  SEO_ANALYSIS: 15,
  CONTENT_OPTIMIZATION: 15,
  CODE_ANALYSIS: 20,
  DATA_ANALYSIS: 25,
  IMAGE_ANALYSIS: 30,
  MULTIMODAL_ANALYSIS: 50,
};

/** Credits one content generation costs, by type; charged when it is requested. */
export const GENERATION_CREDIT_COST: Readonly<Record<GenerationType, number>> = {
  TEXT: 5,
  CODE: 10,
  IMAGE: 25,
};

/** The text a paid request carries (analysis input, generation prompt): kept as sent, but never blank. */
export const paidRequestText = z
  .string()
  .min(1)
  .max(100_000)
  .refine((text) => text.trim() !== '', { error: 'expected some non-blank text, got only whitespace' });

/** The model a paid request asks for, when it names one. */
export const modelName = z.string().trim().min(1).max(200);

/** Enum values described with their price, so the schema documents what each request costs. */
export function pricedValues<Value extends string>(prices: Readonly<Record<Value, number>>) {
  return Object.fromEntries(
    Object.entries<number>(prices).map(([value, cost]) => [value, { description: `Costs ${cost} credits.` }]),
  ) as Record<Value, { description: string }>;
}

/**
 * Spends the caller's credits in the active tenant and returns the balance left. The database
 * serialises spends per balance and raises GW001 (INSUFFICIENT_CREDITS) rather than overdraw;
 * call it inside runMutation so a later failure of the same mutation refunds it by rollback.
 */
export async function spendCredits(
  tx: TransactionClient,
  amount: number,
  reason: string,
  metadata: Record<string, unknown>,
): Promise<number> {
  // Selected from the function's row: a bare composite would reach Prisma as an untyped record.
  const [entry] = await tx.$queryRaw<{ balance_after: bigint | number }[]>`
    select balance_after
    from public.spend_credits(${amount}::integer, ${reason}::text, ${JSON.stringify(metadata)}::jsonb)`;
  if (!entry) throw new Error(`spend_credits(${amount}, ${reason}) returned no ledger entry`);
  return Number(entry.balance_after);
}

/**
 * A paid request as the caller in the active tenant: spends the credits and creates the row in
 * one savepoint, so a short balance writes nothing and a failed insert refunds by rollback. The
 * row's id is chosen first so the ledger entry can name what it paid for.
 */
export async function paidRequest<T>(
  ctx: GatewayContext,
  charge: { credits: number; reason: string; metadata: (id: string) => Record<string, unknown> },
  create: (tx: TransactionClient, row: { id: string; tenantId: string; userId: string; creditsCost: number }) => Promise<T>,
): Promise<T> {
  const userId = requireUserId(ctx);
  const tenantId = await requireTenantId(ctx);
  const id = randomUUID();
  return runMutation(ctx, async (tx) => {
    await spendCredits(tx, charge.credits, charge.reason, charge.metadata(id));
    return create(tx, { id, tenantId, userId, creditsCost: charge.credits });
  });
}
