import { SignJWT } from 'jose';
import { expect } from 'vitest';
import { createTokenVerifier } from '../../src/auth/verifier.ts';
import { createGateway, type GatewayOptions } from '../../src/server/yoga.ts';
import type { TestDatabase } from './database.ts';
import type { WorldUser } from './world.ts';

export const TEST_SECRET = 'a-test-only-hs256-secret-of-at-least-32-chars';
export const TEST_ISSUER = 'https://project.supabase.test/auth/v1';

/** A token as Supabase Auth issues it, signed with the test secret. */
export function tokenFor(user: WorldUser, tenantId?: string, claims: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({
    role: 'authenticated',
    email: user.email,
    app_metadata: tenantId ? { tenant_id: tenantId } : {},
    user_metadata: {},
    ...claims,
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(user.id)
    .setIssuer(TEST_ISSUER)
    .setAudience('authenticated')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(TEST_SECRET));
}

/** A service_role token (the billing backend, the worker): no user, every row. */
export function serviceToken(): Promise<string> {
  return new SignJWT({ role: 'service_role' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(TEST_ISSUER)
    .setAudience('authenticated')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(TEST_SECRET));
}

export interface GraphQLResponse<Data = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: { data?: Data | null; errors?: { message: string; path?: string[]; extensions?: { code?: string } }[] };
}

/** The gateway over a test database, driven through yoga.fetch as a client would; options add limits, logs, metrics. */
export function createTestGateway(db: TestDatabase, options: Partial<GatewayOptions> = {}) {
  const yoga = createGateway({
    db: db.gateway,
    prisma: db.prisma,
    verifyToken: createTokenVerifier({ hsSecret: TEST_SECRET, issuer: TEST_ISSUER, audience: 'authenticated' }),
    ...options,
  });

  async function graphql<Data = Record<string, unknown>>(
    query: string,
    options: { variables?: Record<string, unknown>; token?: string; headers?: Record<string, string>; address?: string } = {},
  ): Promise<GraphQLResponse<Data>> {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    // What node:http would hand yoga: the client's address, for per-address limits.
    const serverContext = { req: { socket: { remoteAddress: options.address ?? '192.0.2.1' } } } as never;
    const response = await yoga.fetch(
      'http://gateway.test/graphql',
      { method: 'POST', headers, body: JSON.stringify({ query, variables: options.variables }) },
      serverContext,
    );
    return { status: response.status, headers: response.headers, body: (await response.json()) as GraphQLResponse<Data>['body'] };
  }

  /** graphql() as the given user in the given tenant. */
  async function as<Data = Record<string, unknown>>(
    user: WorldUser,
    tenantId: string | undefined,
    query: string,
    variables?: Record<string, unknown>,
  ) {
    return graphql<Data>(query, { variables, token: await tokenFor(user, tenantId) });
  }

  /** graphql() as service_role. */
  async function asService<Data = Record<string, unknown>>(query: string, variables?: Record<string, unknown>) {
    return graphql<Data>(query, { variables, token: await serviceToken() });
  }

  /** A mutation's payload (its success or MutationError), as the user or anonymously; top-level errors fail the test. */
  async function payload<Payload>(
    field: string,
    user: WorldUser | null,
    tenantId: string | undefined,
    query: string,
    variables: Record<string, unknown>,
  ): Promise<Payload> {
    const response = user
      ? await as<Record<string, Payload>>(user, tenantId, query, variables)
      : await graphql<Record<string, Payload>>(query, { variables });
    expect(response.body.errors).toBeUndefined();
    return response.body.data![field]!;
  }

  return { yoga, graphql, as, asService, payload };
}
