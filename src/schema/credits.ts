import { z } from 'zod';
import type { GatewayContext } from '../session/context.ts';
import type { TransactionClient } from '../session/request-transaction.ts';
import type { AnalysisType, GenerationType } from '../generated/prisma/enums.ts';
import { requireTenantId, requireUserId, runMutation } from '../session/mutation.ts';

/**
 * Credits one analysis costs, by type; charged when it is requested. The database charges from
 * private.request_prices; these copies document the prices in the schema (a test keeps them equal).
 */
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

/** Credits one business-solution request costs, by table; charged when it is requested. */
export const BUSINESS_SOLUTION_CREDIT_COST = {
  contract_analyses: 40,
  localization_analyses: 35,
  customer_behavior_analyses: 30,
  compliance_monitoring: 45,
  learning_paths: 20,
} as const;

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
 * A paid request, created as the caller in the active tenant in the mutation's savepoint. The
 * database charges it: a trigger spends the price from the caller's balance before the row
 * exists (GW001, INSUFFICIENT_CREDITS, when it is short), whichever path the insert takes.
 */
export async function requestAsCaller<T>(
  ctx: GatewayContext,
  create: (tx: TransactionClient, owner: { tenantId: string; userId: string }) => Promise<T>,
): Promise<T> {
  const userId = requireUserId(ctx);
  const tenantId = await requireTenantId(ctx);
  return runMutation(ctx, (tx) => create(tx, { tenantId, userId }));
}
