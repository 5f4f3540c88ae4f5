import type { EnumRef } from '@pothos/core';
import { z } from 'zod';
import type { Prisma } from '../db/prisma.ts';
import { DomainError } from '../errors.ts';
import { builder } from './builder.ts';
import { dateRange, DateRangeInput, PAGE } from './filters.ts';
import { requireTenantId, runMutation } from '../session/mutation.ts';
import { TenantRef } from './tenants.ts';

// Defined, unexported, in tenants.ts; referred to by name, which Pothos resolves when it builds the schema.
const PlanEnum = 'SubscriptionPlan' as unknown as EnumRef<never, 'FREE' | 'BASIC' | 'PRO' | 'ENTERPRISE'>;
const SubscriptionStatusEnum = builder.enumType('SubscriptionStatus', { values: ['ACTIVE', 'CANCELLED', 'EXPIRED', 'PENDING'] as const });
export const CreditKindEnum = builder.enumType('CreditKind', {
  values: {
    PURCHASE: { description: 'Bought: added by the billing backend.' },
    GRANT: { description: 'Given by the platform: added by the billing backend.' },
    SPEND: { description: 'Paid for a request (negative).' },
    REFUND: { description: 'Returned for a request that failed.' },
    ALLOCATION: { description: 'Moved from the tenant\'s pool (negative, no user) to a member (positive).' },
  } as const,
});

// bigint columns as Float: exact up to 2^53, far beyond any counter or balance, and clients can do arithmetic on it.
const bigintAsFloat = (value: bigint) => Number(value);

builder.prismaNode('Subscription', {
  // Select mode: a query loads only the columns its fields read.
  select: { id: true },
  // Not "Subscription": SDL readers take a type of that name for the subscription root type.
  name: 'BillingSubscription',
  id: { field: 'id' },
  // node(id) answers null, not an error, for rows the caller cannot see.
  nullable: true,
  description: 'A period of the active tenant\'s plan, as the billing backend recorded it (OWNER and ADMIN).',
  fields: (t) => ({
    plan: t.expose('plan', { type: PlanEnum }),
    status: t.expose('status', { type: SubscriptionStatusEnum }),
    currentPeriodStart: t.expose('currentPeriodStart', { type: 'DateTime' }),
    currentPeriodEnd: t.expose('currentPeriodEnd', { type: 'DateTime' }),
    cancelAtPeriodEnd: t.exposeBoolean('cancelAtPeriodEnd'),
    metadata: t.expose('metadata', { type: 'JSON' }),
    usage: t.relation('usage', { query: { orderBy: [{ period: 'desc' }, { metric: 'asc' }] } }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.prismaNode('SubscriptionUsage', {
  // Select mode: a query loads only the columns its fields read.
  select: { id: true },
  id: { field: 'id' },
  // node(id) answers null, not an error, for rows the caller cannot see.
  nullable: true,
  fields: (t) => ({
    metric: t.exposeString('metric'),
    period: t.exposeString('period'),
    value: t.float({ select: { value: true }, resolve: (usage) => bigintAsFloat(usage.value) }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.prismaNode('CreditTransaction', {
  // Select mode: a query loads only the columns its fields read.
  select: { id: true },
  id: { field: 'id' },
  // node(id) answers null, not an error, for rows the caller cannot see.
  nullable: true,
  description: 'One entry of the append-only credit ledger of a user in a tenant.',
  fields: (t) => ({
    amount: t.exposeInt('amount', { description: 'Negative for SPEND.' }),
    kind: t.expose('kind', { type: CreditKindEnum }),
    reason: t.exposeString('reason'),
    balanceAfter: t.float({ select: { balanceAfter: true }, resolve: (entry) => bigintAsFloat(entry.balanceAfter) }),
    metadata: t.expose('metadata', { type: 'JSON' }),
    // Looked up, not joined: a user who has left the tenant is invisible, and then this is null.
    user: t.prismaField({
      type: 'User',
      nullable: true,
      description: 'The member whose balance changed; null for the tenant\'s pool, or when they have left the tenant.',
      select: { userId: true },
      resolve: (query, entry, _args, ctx) =>
        entry.userId ? ctx.prisma.user.findUnique({ ...query, where: { id: entry.userId } }) : null,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.queryField('subscriptions', (t) =>
  t.prismaField({
    type: ['Subscription'],
    description: 'The active tenant\'s subscriptions, newest period first (OWNER and ADMIN).',
    authScopes: { tenantRole: 'ADMIN' },
    resolve: (query, _root, _args, ctx) =>
      ctx.prisma.subscription.findMany({ ...query, orderBy: [{ currentPeriodStart: 'desc' }, { id: 'asc' }] }),
  }),
);

const UUID = z.uuid();

/** The user id inside a global id, refused unless it names a User. */
function userIdOf(globalId: { typename: string; id: string }): string {
  if (globalId.typename !== 'User' || !UUID.safeParse(globalId.id).success) {
    throw new DomainError('VALIDATION_FAILED', 'userId: must be the id of a User');
  }
  return globalId.id;
}

const CreditTransactionFilter = builder.inputType('CreditTransactionFilter', {
  fields: (t) => ({
    kind: t.field({ type: [CreditKindEnum], required: false }),
    userId: t.globalID({ required: false, description: 'Only this user\'s entries (ADMIN and up see others\').' }),
    createdAt: t.field({ type: DateRangeInput, required: false }),
  }),
});

function creditWhere(filter: typeof CreditTransactionFilter.$inferInput | null | undefined): Prisma.CreditTransactionWhereInput {
  return {
    kind: filter?.kind ? { in: filter.kind } : undefined,
    userId: filter?.userId ? userIdOf(filter.userId) : undefined,
    createdAt: dateRange(filter?.createdAt),
  };
}

builder.queryField('creditTransactions', (t) =>
  t.prismaConnection({
    type: 'CreditTransaction',
    cursor: 'id',
    ...PAGE,
    description: 'Your ledger entries in the active tenant, or everyone\'s and the pool\'s for ADMIN and up; newest first.',
    // anon holds no grant on the ledger: refuse in words rather than with a masked 42501.
    authScopes: { signedIn: true },
    args: { filter: t.arg({ type: CreditTransactionFilter, required: false }) },
    resolve: (query, _root, { filter }, ctx) =>
      ctx.prisma.creditTransaction.findMany({ ...query, where: creditWhere(filter), orderBy: [{ seq: 'desc' }] }),
    totalCount: (_connection, { filter }, ctx) => ctx.prisma.creditTransaction.count({ where: creditWhere(filter) }),
  }),
);

const creditAmount = z.number().int().min(1).max(1_000_000);
const creditReason = z.string().trim().min(1).max(500);

builder.mutationField('grantCredits', (t) =>
  t.prismaField({
    type: 'CreditTransaction',
    description: 'Adds purchased or granted credits to a tenant\'s pool, or to one of its members (service_role: the billing backend).',
    authScopes: { serviceRole: true },
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('GrantCreditsInput', {
          fields: (f) => ({
            tenantId: f.globalID({ for: TenantRef }),
            userId: f.globalID({ required: false, description: 'A member; leave out to fill the tenant\'s pool.' }),
            amount: f.int({ validate: creditAmount }),
            reason: f.string({ validate: creditReason }),
            kind: f.field({
              type: CreditKindEnum,
              defaultValue: 'PURCHASE',
              validate: z.enum(['PURCHASE', 'GRANT', 'REFUND'], { error: (issue) => `expected PURCHASE, GRANT or REFUND, got ${String(issue.input)}` }),
            }),
          }),
        }),
      }),
    },
    errors: { dataField: { name: 'transaction' } },
    resolve: (query, _root, { input }, ctx) => {
      const userId = input.userId ? userIdOf(input.userId) : null;
      return runMutation(ctx, async (tx) => {
        const [entry] = await tx.$queryRaw<{ id: string }[]>`
          select id from public.grant_credits(${userId}::uuid, ${input.amount}::integer, ${input.reason}::text,
                                              ${input.kind}::public.credit_kind, ${input.tenantId.id}::uuid)`;
        return tx.creditTransaction.findUniqueOrThrow({ ...query, where: { id: entry!.id } });
      });
    },
  }),
);

builder.mutationField('allocateCredits', (t) =>
  t.prismaField({
    type: 'CreditTransaction',
    description: 'Moves credits from the active tenant\'s pool to one of its members (ADMIN and up); INSUFFICIENT_CREDITS when the pool is short.',
    authScopes: { tenantRole: 'ADMIN' },
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('AllocateCreditsInput', {
          fields: (f) => ({
            userId: f.globalID(),
            amount: f.int({ validate: creditAmount }),
            reason: f.string({ validate: creditReason }),
          }),
        }),
      }),
    },
    errors: { dataField: { name: 'transaction' } },
    resolve: async (query, _root, { input }, ctx) => {
      await requireTenantId(ctx);
      const userId = userIdOf(input.userId);
      return runMutation(ctx, async (tx) => {
        const [entry] = await tx.$queryRaw<{ id: string }[]>`
          select id from public.allocate_credits(${userId}::uuid, ${input.amount}::integer, ${input.reason}::text)`;
        return tx.creditTransaction.findUniqueOrThrow({ ...query, where: { id: entry!.id } });
      });
    },
  }),
);
