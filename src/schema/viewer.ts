import { builder } from './builder.ts';
import { isSignedIn } from '../session/claims.ts';
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
    tenantCreditPool: t.float({
      nullable: true,
      description: 'The active tenant\'s undistributed credits, which OWNER and ADMIN allocate; null for other roles.',
      resolve: async (_viewer, _args, ctx) => {
        const { role } = await ctx.loaders.caller();
        if (role !== 'OWNER' && role !== 'ADMIN') return null;
        const tx = await ctx.transaction.get();
        const [row] = await tx.$queryRaw<{ pool: bigint | number }[]>`select public.tenant_credit_pool() as pool`;
        return Number(row!.pool);
      },
    }),
    invitations: t.prismaField({
      type: ['TenantInvitation'],
      description: 'Pending invitations to your confirmed email address, newest first; accept one to join its tenant.',
      resolve: async (query, _viewer, _args, ctx) => {
        // An ADMIN also reads their tenant's invitations to others; keep those to the address's own.
        const tx = await ctx.transaction.get();
        const mine = await tx.$queryRaw<{ id: string }[]>`
          select i.id from public.tenant_invitations i
          where i.status = 'PENDING' and i.expires_at > now()
            and i.email = (select lower(u.email) from public.users u where u.id = auth.uid())`;
        return ctx.prisma.tenantInvitation.findMany({
          ...query,
          where: { id: { in: mine.map((row) => row.id) } },
          orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
        });
      },
    }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({
    type: ViewerRef,
    nullable: true,
    description: 'The caller; null for anonymous requests.',
    resolve: (_root, _args, { claims }) => (isSignedIn(claims) ? { userId: claims.sub } : null),
  }),
);
