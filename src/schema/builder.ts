import SchemaBuilder from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import ErrorsPlugin from '@pothos/plugin-errors';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import ValidationPlugin from '@pothos/plugin-validation';
import type { GatewayContext } from '../session/context.ts';
import { isSignedIn } from '../session/claims.ts';
import { DomainError } from '../errors.ts';
import type PrismaTypes from '../generated/pothos-types.ts';
import { getDatamodel } from '../generated/pothos-types.ts';
import { TENANT_ROLES, type TenantRole } from '../session/loaders/index.ts';

const rank = (role: TenantRole | null) => (role ? TENANT_ROLES.indexOf(role) : -1);

/** Configures the builder only; types, queries and mutations live in one file per domain. */
export const builder = new SchemaBuilder<{
  Context: GatewayContext;
  PrismaTypes: PrismaTypes;
  AuthScopes: { signedIn: boolean; tenantRole: TenantRole; serviceRole: boolean };
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: true;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
  };
}>({
  defaultFieldNullability: false,
  defaultInputFieldRequiredness: true,
  // Errors first, so refusals from scope-auth and validation become typed mutation results.
  plugins: [ErrorsPlugin, ScopeAuthPlugin, PrismaPlugin, RelayPlugin, ValidationPlugin, DataloaderPlugin],
  prisma: {
    client: (ctx) => ctx.prisma,
    dmmf: getDatamodel(),
    exposeDescriptions: false,
    filterConnectionTotalCount: true,
    onUnusedQuery: process.env.NODE_ENV === 'production' ? null : 'warn',
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
  },
  // Friendly refusals only: row-level security decides what is visible and writable.
  scopeAuth: {
    authScopes: (ctx) => ({
      signedIn: isSignedIn(ctx.claims),
      // The billing backend and the worker: statuses, results and credits are theirs to write.
      serviceRole: ctx.claims.role === 'service_role',
      tenantRole: async (min) => rank((await ctx.loaders.caller()).role) >= rank(min),
    }),
    unauthorizedError: (_parent, ctx, _info, { failure }) => {
      if ('scope' in failure && failure.scope === 'serviceRole') {
        return new DomainError('FORBIDDEN', 'only service_role (the billing backend or the worker) may do this');
      }
      return ctx.claims.role === 'authenticated'
        ? new DomainError('FORBIDDEN', 'your role in the active tenant does not allow this')
        : new DomainError('UNAUTHENTICATED', 'sign in to do this');
    },
  },
  // Input validation runs before authorization; its messages reveal nothing about stored data.
  errors: { defaultTypes: [DomainError], unsafelyHandleInputErrors: true },
  validation: {
    validationError: (result) =>
      new DomainError(
        'VALIDATION_FAILED',
        result.issues
          .map((issue) => {
            const path = (issue.path ?? []).map((p) => (typeof p === 'object' ? p.key : p)).join('.');
            return path ? `${path}: ${issue.message}` : issue.message;
          })
          .join('; '),
      ),
  },
});

builder.queryType({});
builder.mutationType({});
