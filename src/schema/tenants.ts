import { z } from 'zod';
import { builder } from './builder.ts';
import { requireChanges, requireTenantId, requireUserId, runMutation } from '../session/mutation.ts';

export const TenantRoleEnum = builder.enumType('TenantRole', { values: ['VIEWER', 'MEMBER', 'ADMIN', 'OWNER'] as const });
const PlanEnum = builder.enumType('SubscriptionPlan', { values: ['FREE', 'BASIC', 'PRO', 'ENTERPRISE'] as const });
const TenantStatusEnum = builder.enumType('TenantStatus', { values: ['ACTIVE', 'SUSPENDED', 'ARCHIVED'] as const });

const slug = z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'lowercase letters, digits and inner dashes, 1-63 long');

export const TenantRef = builder.prismaNode('Tenant', {
  // Select mode: a query loads only the columns its fields read.
  select: { id: true },
  id: { field: 'id' },
  // node(id) answers null, not an error, for rows the caller cannot see.
  nullable: true,
  fields: (t) => ({
    name: t.exposeString('name'),
    slug: t.exposeString('slug'),
    plan: t.expose('plan', { type: PlanEnum }),
    status: t.expose('status', { type: TenantStatusEnum }),
    maxUsers: t.exposeInt('maxUsers'),
    maxProjects: t.exposeInt('maxProjects'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    members: t.relatedConnection('memberships', { cursor: 'id', totalCount: true, query: { orderBy: { createdAt: 'asc' } } }),
    settings: t.relation('settings', { query: { orderBy: { key: 'asc' } } }),
  }),
});

export const TenantMemberRef = builder.prismaNode('TenantUser', {
  // Select mode: a query loads only the columns its fields read.
  select: { id: true },
  name: 'TenantMember',
  id: { field: 'id' },
  // node(id) answers null, not an error, for rows the caller cannot see.
  nullable: true,
  fields: (t) => ({
    role: t.expose('role', { type: TenantRoleEnum }),
    user: t.relation('user'),
    tenant: t.relation('tenant'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.prismaNode('TenantSetting', {
  // Select mode: a query loads only the columns its fields read.
  select: { id: true },
  id: { field: 'id' },
  // node(id) answers null, not an error, for rows the caller cannot see.
  nullable: true,
  fields: (t) => ({
    key: t.exposeString('key'),
    value: t.expose('value', { type: 'JSON' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.mutationField('createTenant', (t) =>
  t.prismaField({
    type: 'Tenant',
    description: 'Creates a tenant on the FREE plan with you as its OWNER.',
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('CreateTenantInput', {
          fields: (f) => ({
            name: f.string({ validate: z.string().trim().min(1).max(200) }),
            slug: f.string({ validate: slug }),
          }),
        }),
      }),
    },
    errors: { dataField: { name: 'tenant' } },
    resolve: (query, _root, { input }, ctx) => {
      requireUserId(ctx);
      return runMutation(ctx, async (tx) => {
        const [created] = await tx.$queryRaw<{ id: string }[]>`select id from public.create_tenant(${input.name}, ${input.slug})`;
        return tx.tenant.findUniqueOrThrow({ ...query, where: { id: created!.id } });
      });
    },
  }),
);

builder.mutationField('updateTenant', (t) =>
  t.prismaField({
    type: 'Tenant',
    description: 'Renames the active tenant (OWNER and ADMIN).',
    authScopes: { tenantRole: 'ADMIN' },
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('UpdateTenantInput', {
          fields: (f) => ({
            name: f.string({ required: false, validate: z.string().trim().min(1).max(200) }),
            slug: f.string({ required: false, validate: slug }),
          }),
        }),
      }),
    },
    errors: { dataField: { name: 'tenant' } },
    resolve: async (query, _root, { input }, ctx) => {
      const data = requireChanges({ name: input.name ?? undefined, slug: input.slug ?? undefined });
      const id = await requireTenantId(ctx);
      return runMutation(ctx, (tx) => tx.tenant.update({ ...query, where: { id }, data }));
    },
  }),
);

builder.mutationField('changeMemberRole', (t) =>
  t.prismaField({
    type: 'TenantUser',
    description: 'Changes a member\'s role (OWNER and ADMIN; ADMIN can neither grant nor touch OWNER).',
    authScopes: { tenantRole: 'ADMIN' },
    args: {
      memberId: t.arg.globalID({ for: TenantMemberRef, required: true }),
      role: t.arg({ type: TenantRoleEnum, required: true }),
    },
    errors: { dataField: { name: 'member' } },
    resolve: (query, _root, { memberId, role }, ctx) =>
      runMutation(ctx, (tx) => tx.tenantUser.update({ ...query, where: { id: memberId.id }, data: { role } })),
  }),
);

builder.mutationField('removeTenantMember', (t) =>
  t.field({
    type: 'ID',
    description: 'Removes a member (OWNER and ADMIN), or yourself. Returns the removed member\'s id.',
    args: { memberId: t.arg.globalID({ for: TenantMemberRef, required: true }) },
    errors: { dataField: { name: 'removedMemberId' } },
    resolve: async (_root, { memberId }, ctx) => {
      requireUserId(ctx);
      await runMutation(ctx, (tx) => tx.tenantUser.delete({ where: { id: memberId.id }, select: { id: true } }));
      return memberId.id;
    },
  }),
);

builder.mutationField('upsertTenantSetting', (t) =>
  t.prismaField({
    type: 'TenantSetting',
    description: 'Creates or replaces one setting of the active tenant (OWNER and ADMIN).',
    authScopes: { tenantRole: 'ADMIN' },
    args: {
      key: t.arg.string({ required: true, validate: z.string().regex(/^[a-z][a-z0-9_.-]{0,99}$/, 'lowercase, starting with a letter') }),
      value: t.arg({ type: 'JSON', required: true }),
    },
    errors: { dataField: { name: 'setting' } },
    resolve: async (query, _root, { key, value }, ctx) => {
      const tenantId = await requireTenantId(ctx);
      const json = value as never;
      return runMutation(ctx, (tx) =>
        tx.tenantSetting.upsert({
          ...query,
          where: { tenantId_key: { tenantId, key } },
          create: { tenantId, key, value: json },
          update: { value: json },
        }),
      );
    },
  }),
);
