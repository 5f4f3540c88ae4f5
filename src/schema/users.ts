import { z } from 'zod';
import { builder } from './builder.ts';
import { requireChanges, requireUserId, runMutation } from '../session/mutation.ts';
import { plannedUpdate } from './plan/registry.ts';

export const UserRoleEnum = builder.enumType('UserRole', { values: ['USER', 'ADMIN', 'MODERATOR', 'DEVELOPER'] as const });

builder.prismaNode('User', {
  // Select mode: a query loads only the columns its fields read.
  select: { id: true },
  id: { field: 'id' },
  // node(id) answers null, not an error, for rows the caller cannot see.
  nullable: true,
  description: 'A person: yourself, or someone who shares a tenant with you.',
  fields: (t) => ({
    email: t.exposeString('email', { nullable: true }),
    name: t.exposeString('name', { nullable: true }),
    avatarUrl: t.exposeString('avatarUrl', { nullable: true }),
    role: t.expose('role', { type: UserRoleEnum }),
    isActive: t.exposeBoolean('isActive'),
    lastLoginAt: t.expose('lastLoginAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const UpdateProfileInput = builder.inputType('UpdateProfileInput', {
  fields: (t) => ({
    name: t.string({ required: false, validate: z.string().trim().min(1).max(200) }),
    avatarUrl: t.string({ required: false, validate: z.url({ protocol: /^https?$/ }).max(2048) }),
  }),
});

const profileUpdate = plannedUpdate('updateProfile', {
  model: 'User',
  write: ({ input }: { input: { name?: string | null; avatarUrl?: string | null } }, ctx) => ({
    id: requireUserId(ctx),
    data: requireChanges({ name: input.name ?? undefined, avatarUrl: input.avatarUrl ?? undefined }),
  }),
});

builder.mutationField('updateProfile', (t) =>
  t.prismaField({
    type: 'User',
    description: 'Changes your own name and avatar.',
    args: { input: t.arg({ type: UpdateProfileInput, required: true }) },
    errors: { dataField: { name: 'user' } },
    resolve: (query, _root, args, ctx) => {
      const { id, data } = profileUpdate.write(args, ctx);
      return runMutation(ctx, (tx) => tx.user.update({ ...query, where: { id }, data }));
    },
  }),
);
