import { z } from 'zod';
import { generateApiKey } from '../auth/api-keys.ts';
import type { GatewayContext } from '../session/context.ts';
import { DomainError } from '../errors.ts';
import { builder } from './builder.ts';
import { PAGE } from './filters.ts';
import { requireTenantId, requireUserId, runMutation } from '../session/mutation.ts';

// Select mode: `authenticated` may not read key_hash, so every query names its columns.
export const ApiKeyRef = builder.prismaNode('ApiKey', {
  id: { field: 'id' },
  // node(id) answers null, not an error, for rows the caller cannot see.
  nullable: true,
  select: { id: true },
  description: 'A key for programmatic access, bound to its user and tenant. The secret is shown once, at creation.',
  fields: (t) => ({
    name: t.exposeString('name'),
    prefix: t.exposeString('prefix', { description: 'The first characters of the secret, to tell keys apart.' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    owner: t.prismaField({
      type: 'User',
      nullable: true,
      select: { userId: true },
      description: 'Whose key it is: the key acts as this user.',
      resolve: (query, key, _args, ctx) => ctx.prisma.user.findUnique({ ...query, where: { id: key.userId } }),
    }),
  }),
});

/** Keys of the caller, or of every member for ADMIN and up when they ask; RLS decides either way. */
async function apiKeyWhere(ctx: GatewayContext, includeRevoked: boolean, allMembers: boolean) {
  const userId = requireUserId(ctx);
  if (allMembers) {
    const { role } = await ctx.loaders.caller();
    if (role !== 'OWNER' && role !== 'ADMIN') {
      throw new DomainError('FORBIDDEN', 'allMembers: only OWNER and ADMIN see every member\'s keys');
    }
  }
  return { userId: allMembers ? undefined : userId, revokedAt: includeRevoked ? undefined : null };
}

builder.queryField('apiKeys', (t) =>
  t.prismaConnection({
    type: 'ApiKey',
    cursor: 'id',
    ...PAGE,
    description: 'Your own API keys in the active tenant, or every member\'s with allMembers (OWNER and ADMIN); newest first.',
    // anon holds no grant on api_keys at all: refuse in words rather than with a masked 42501.
    authScopes: { signedIn: true },
    args: {
      includeRevoked: t.arg.boolean({ required: true, defaultValue: false }),
      allMembers: t.arg.boolean({ required: true, defaultValue: false }),
    },
    resolve: async (query, _root, { includeRevoked, allMembers }, ctx) =>
      ctx.prisma.apiKey.findMany({
        ...query,
        where: await apiKeyWhere(ctx, includeRevoked, allMembers),
        orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
      }),
    totalCount: async (_connection, { includeRevoked, allMembers }, ctx) =>
      ctx.prisma.apiKey.count({ where: await apiKeyWhere(ctx, includeRevoked, allMembers) }),
  }),
);

interface CreatedApiKey {
  id: string;
  secret: string;
}

const CreatedApiKeyRef = builder.objectRef<CreatedApiKey>('CreatedApiKey').implement({
  description: 'A new key and its secret. The secret is not stored and cannot be shown again.',
  fields: (t) => ({
    apiKey: t.prismaField({
      type: 'ApiKey',
      resolve: (query, { id }, _args, ctx) => ctx.prisma.apiKey.findUniqueOrThrow({ ...query, where: { id } }),
    }),
    secret: t.exposeString('secret', { description: 'Send as `Authorization: Bearer <secret>` or `x-api-key: <secret>`.' }),
  }),
});

builder.mutationField('createApiKey', (t) =>
  t.field({
    type: CreatedApiKeyRef,
    description: 'Creates an API key acting as you in the active tenant (MEMBER and up).',
    authScopes: { tenantRole: 'MEMBER' },
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('CreateApiKeyInput', {
          fields: (f) => ({
            name: f.string({ validate: z.string().trim().min(1).max(100) }),
            expiresAt: f.field({
              type: 'DateTime',
              required: false,
              validate: z.date().refine((date) => date.getTime() > Date.now(), 'must be in the future'),
            }),
          }),
        }),
      }),
    },
    errors: { dataField: { name: 'created' } },
    resolve: async (_root, { input }, ctx) => {
      const userId = requireUserId(ctx);
      // The database refuses it too; a leaked key must not be able to outlive its own revocation.
      if (ctx.caller.via === 'api_key') throw new DomainError('FORBIDDEN', 'API keys are created by people, not with an API key');
      const tenantId = await requireTenantId(ctx);
      const key = generateApiKey();
      const row = await runMutation(ctx, (tx) =>
        tx.apiKey.create({
          data: { tenantId, userId, name: input.name, prefix: key.displayPrefix, keyHash: key.hash, expiresAt: input.expiresAt },
          select: { id: true },
        }),
      );
      return { id: row.id, secret: key.secret };
    },
  }),
);

builder.mutationField('revokeApiKey', (t) =>
  t.prismaField({
    type: 'ApiKey',
    description: 'Revokes one of your keys, or any key of the active tenant as OWNER and ADMIN, at once and for good. ' +
      'Revoking a revoked key keeps its first revokedAt.',
    args: { id: t.arg.globalID({ for: ApiKeyRef, required: true }) },
    errors: { dataField: { name: 'apiKey' } },
    resolve: (query, _root, { id }, ctx) => {
      requireUserId(ctx);
      return runMutation(ctx, async (tx) => {
        await tx.$queryRaw`select id from public.revoke_api_key(${id.id}::uuid)`;
        return tx.apiKey.findUniqueOrThrow({ ...query, where: { id: id.id } });
      });
    },
  }),
);
