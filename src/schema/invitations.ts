import { z } from 'zod';
import { builder } from './builder.ts';
import { PAGE } from './filters.ts';
import { requireUserId, runMutation } from '../session/mutation.ts';
import { TenantRef, TenantRoleEnum } from './tenants.ts';

const InvitationStatusEnum = builder.enumType('InvitationStatus', {
  values: ['PENDING', 'ACCEPTED', 'DECLINED', 'REVOKED'] as const,
});

export const TenantInvitationRef = builder.prismaNode('TenantInvitation', {
  // Select mode: a query loads only the columns its fields read.
  select: { id: true },
  id: { field: 'id' },
  // node(id) answers null, not an error, for rows the caller cannot see.
  nullable: true,
  description:
    'An offer of membership to an email address. Its invitee (signed in with that address, confirmed) accepts or declines it.',
  fields: (t) => ({
    tenantName: t.exposeString('tenantName', { description: 'The tenant\'s name when the invitation was sent.' }),
    email: t.exposeString('email'),
    role: t.expose('role', { type: TenantRoleEnum }),
    status: t.expose('status', { type: InvitationStatusEnum }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    respondedAt: t.expose('respondedAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.prismaObjectField(TenantRef, 'invitations', (t) =>
  t.relatedConnection('invitations', {
    cursor: 'id',
    totalCount: true,
    ...PAGE,
    description: 'Invitations sent by this tenant, newest first (OWNER and ADMIN; empty for others).',
    query: { orderBy: [{ createdAt: 'desc' }, { id: 'asc' }] },
  }),
);

/** The invitation functions; each answers with the row's id, read back under the caller's policies. */
const INVITATION_SQL = {
  invite: 'select id from public.invite_tenant_member($1, $2::public.tenant_role)',
  accept: 'select id from public.accept_tenant_invitation($1::uuid)',
  decline: 'select id from public.decline_tenant_invitation($1::uuid)',
  revoke: 'select id from public.revoke_tenant_invitation($1::uuid)',
} as const;

builder.mutationField('inviteTenantMember', (t) =>
  t.prismaField({
    type: 'TenantInvitation',
    description:
      'Invites an email address to the active tenant (OWNER and ADMIN; only an OWNER invites an OWNER). ' +
      'The answer is the same whether or not the address belongs to a user; nobody joins until they accept.',
    authScopes: { tenantRole: 'ADMIN' },
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('InviteTenantMemberInput', {
          fields: (f) => ({
            email: f.string({ validate: z.email().max(320) }),
            role: f.field({ type: TenantRoleEnum, required: false }),
          }),
        }),
      }),
    },
    errors: { dataField: { name: 'invitation' } },
    resolve: (query, _root, { input }, ctx) =>
      runMutation(ctx, async (tx) => {
        const [row] = await tx.$queryRawUnsafe<{ id: string }[]>(INVITATION_SQL.invite, input.email, input.role ?? 'MEMBER');
        return tx.tenantInvitation.findUniqueOrThrow({ ...query, where: { id: row!.id } });
      }),
  }),
);

builder.mutationField('acceptTenantInvitation', (t) =>
  t.prismaField({
    type: 'TenantUser',
    description: 'Joins the tenant that invited your confirmed email address, with the role it offered.',
    args: { id: t.arg.globalID({ for: TenantInvitationRef, required: true }) },
    errors: { dataField: { name: 'member' } },
    resolve: (query, _root, { id }, ctx) => {
      requireUserId(ctx);
      return runMutation(ctx, async (tx) => {
        const [row] = await tx.$queryRawUnsafe<{ id: string }[]>(INVITATION_SQL.accept, id.id);
        return tx.tenantUser.findUniqueOrThrow({ ...query, where: { id: row!.id } });
      });
    },
  }),
);

for (const [field, fn, description] of [
  ['declineTenantInvitation', 'decline', 'Declines an invitation to your confirmed email address.'],
  ['revokeTenantInvitation', 'revoke', 'Withdraws a pending invitation of the active tenant (OWNER and ADMIN).'],
] as const) {
  builder.mutationField(field, (t) =>
    t.prismaField({
      type: 'TenantInvitation',
      description,
      args: { id: t.arg.globalID({ for: TenantInvitationRef, required: true }) },
      errors: { dataField: { name: 'invitation' } },
      resolve: (query, _root, { id }, ctx) => {
        requireUserId(ctx);
        return runMutation(ctx, async (tx) => {
          const [row] = await tx.$queryRawUnsafe<{ id: string }[]>(INVITATION_SQL[fn], id.id);
          return tx.tenantInvitation.findUniqueOrThrow({ ...query, where: { id: row!.id } });
        });
      },
    }),
  );
}
