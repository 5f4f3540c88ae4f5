import { builder } from './builder.ts';
import { TenantRoleEnum } from './tenants.ts';

interface Viewer {
  userId: string;
}

const ViewerRef = builder.objectRef<Viewer>('Viewer').implement({
  description: 'The signed-in caller, as the database sees them.',
  fields: (t) => ({
    user: t.prismaField({
      type: 'User',
      resolve: (query, { userId }, _args, ctx) => ctx.prisma.user.findUniqueOrThrow({ ...query, where: { id: userId } }),
    }),
    tenant: t.prismaField({
      type: 'Tenant',
      nullable: true,
      description: 'The active tenant; null when the token names no tenant you belong to.',
      resolve: async (query, _viewer, _args, ctx) => {
        const { tenantId } = await ctx.loaders.caller();
        return tenantId ? ctx.prisma.tenant.findUnique({ ...query, where: { id: tenantId } }) : null;
      },
    }),
    role: t.field({
      type: TenantRoleEnum,
      nullable: true,
      description: 'Your role in the active tenant, from its membership list.',
      resolve: async (_viewer, _args, ctx) => (await ctx.loaders.caller()).role,
    }),
    tenants: t.prismaField({
      type: ['Tenant'],
      description: 'Every tenant you belong to; pass one\'s id as X-Tenant-Id to make it active.',
      resolve: (query, { userId }, _args, ctx) =>
        ctx.prisma.tenant.findMany({ ...query, where: { memberships: { some: { userId } } }, orderBy: { name: 'asc' } }),
    }),
    creditBalance: t.int({
      description: 'Your credit balance in the active tenant.',
      resolve: async (_viewer, _args, ctx) => (await ctx.loaders.caller()).balance,
    }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({
    type: ViewerRef,
    nullable: true,
    description: 'The caller; null for anonymous requests.',
    resolve: (_root, _args, { claims }) =>
      claims.role === 'authenticated' && typeof claims.sub === 'string' ? { userId: claims.sub } : null,
  }),
);
