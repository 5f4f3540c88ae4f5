import { z } from 'zod';
import { generateApiKey } from '../auth/api-keys.ts';
import { DomainError } from '../errors.ts';
import { builder } from './builder.ts';
import { PAGE } from './filters.ts';
import { requireTenantId, requireUserId, runMutation } from './mutation.ts';

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
  }),
});

builder.queryField('apiKeys', (t) =>
  t.prismaConnection({
    type: 'ApiKey',
    cursor: 'id',
    ...PAGE,
    description: 'Your own API keys in the active tenant, newest first.',
    // anon holds no grant on api_keys at all: refuse in words rather than with a masked 42501.
    authScopes: { signedIn: true },
    args: { includeRevoked: t.arg.boolean({ required: true, defaultValue: false }) },
    resolve: (query, _root, { includeRevoked }, ctx) =>
      ctx.prisma.apiKey.findMany({
        ...query,
        where: { userId: requireUserId(ctx), revokedAt: includeRevoked ? undefined : null },
        orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
      }),
    totalCount: (_connection, { includeRevoked }, ctx) =>
      ctx.prisma.apiKey.count({ where: { userId: requireUserId(ctx), revokedAt: includeRevoked ? undefined : null } }),
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
    description: 'Revokes one of your keys at once. Revoking a revoked key keeps its first revokedAt.',
    args: { id: t.arg.globalID({ for: ApiKeyRef, required: true }) },
    errors: { dataField: { name: 'apiKey' } },
    resolve: (query, _root, { id }, ctx) => {
      requireUserId(ctx);
      return runMutation(ctx, async (tx) => {
        // RLS limits the update to the caller's own keys; others' look like missing ones.
        await tx.apiKey.updateMany({ where: { id: id.id, revokedAt: null }, data: { revokedAt: new Date() } });
        const key = await tx.apiKey.findUnique({ ...query, where: { id: id.id } });
        if (!key) throw new DomainError('NOT_FOUND', 'no such API key of yours in the active tenant');
        return key;
      });
    },
  }),
);
