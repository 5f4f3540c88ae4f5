import type { GraphQLError } from 'graphql';
import { createGraphQLError } from 'graphql-yoga';
import { type RequestClaims, withClaims } from '../db/claims.ts';
import type { Database } from '../db/database.ts';
import { hashApiKey, isApiKey } from './api-keys.ts';
import { AuthError, KeySourceError } from './errors.ts';
import type { TokenVerifier } from './verifier.ts';

/** Who is calling, as established from the request's credentials. */
export interface Caller {
  claims: RequestClaims;
  via: 'anonymous' | 'jwt' | 'api_key';
}

export interface AuthenticatorOptions {
  verifyToken: TokenVerifier;
  /** Where API keys are looked up (by hash, through private.authenticate_api_key). */
  db: Database;
  /** Whether an unreachable key set is reported on stderr (operators need to know; callers get 503). */
  logging?: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * An HTTP-level refusal: graphql-yoga answers with this status and the code in extensions. Built
 * with yoga's createGraphQLError so yoga recognises it even where graphql is loaded twice.
 */
function refuse(status: number, code: string, message: string): GraphQLError {
  return createGraphQLError(message, { extensions: { code, http: { status } } });
}

/**
 * Resolves `Authorization: Bearer <JWT | API key>` or `x-api-key: <key>` to claims. No
 * credentials means `anon`; any credential that does not verify is a 401, never anon.
 */
export function createAuthenticator({ verifyToken, db, logging = true }: AuthenticatorOptions) {
  async function fromApiKey(key: string): Promise<RequestClaims> {
    const rows = await withClaims(db, { role: 'anon' }, async (tx) =>
      (await tx.query<{ user_id: string; tenant_id: string }>(
        'select user_id, tenant_id from private.authenticate_api_key($1)',
        [hashApiKey(key)],
      )).rows,
    );
    const match = rows[0];
    if (!match) throw new AuthError('API key is unknown, revoked or expired');
    return { sub: match.user_id, role: 'authenticated', app_metadata: { tenant_id: match.tenant_id }, amr: [{ method: 'api_key' }] };
  }

  return async function authenticate(request: Request): Promise<Caller> {
    const header = request.headers.get('authorization');
    const apiKeyHeader = request.headers.get('x-api-key');
    let credential: string | undefined;
    if (header !== null) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (!match) throw refuse(401, 'UNAUTHENTICATED', 'Authorization header must be "Bearer <token>"');
      credential = match[1];
    }
    if (apiKeyHeader !== null) {
      if (credential !== undefined) throw refuse(401, 'UNAUTHENTICATED', 'send either Authorization or x-api-key, not both');
      credential = apiKeyHeader.trim();
    }
    // Through selectTenant too: X-Tenant-Id without credentials is refused, not silently ignored.
    if (credential === undefined) {
      return selectTenant({ claims: { role: 'anon' }, via: 'anonymous' }, request.headers.get('x-tenant-id'));
    }

    let caller: Caller;
    try {
      caller = isApiKey(credential)
        ? { claims: await fromApiKey(credential), via: 'api_key' }
        : { claims: await verifyToken(credential), via: 'jwt' };
    } catch (error) {
      if (error instanceof AuthError) throw refuse(401, 'UNAUTHENTICATED', error.message);
      if (error instanceof KeySourceError) {
        if (logging) console.error('token verification unavailable:', error.cause);
        throw refuse(503, 'AUTH_UNAVAILABLE', error.message);
      }
      throw error;
    }
    return selectTenant(caller, request.headers.get('x-tenant-id'));
  };
}

/** X-Tenant-Id chooses another tenant of the user; RLS still checks the membership. */
function selectTenant(caller: Caller, header: string | null): Caller {
  if (header === null) return caller;
  const tenantId = header.trim();
  if (!UUID.test(tenantId)) {
    throw refuse(400, 'VALIDATION_FAILED', `X-Tenant-Id must be a tenant's UUID, got ${JSON.stringify(header.slice(0, 64))}`);
  }
  if (caller.via === 'anonymous') throw refuse(401, 'UNAUTHENTICATED', 'X-Tenant-Id needs a signed-in caller');
  const current = caller.claims.app_metadata?.tenant_id;
  if (caller.via === 'api_key' && current !== tenantId) {
    throw refuse(403, 'FORBIDDEN', 'an API key is bound to its tenant; X-Tenant-Id cannot select another');
  }
  return { ...caller, claims: { ...caller.claims, app_metadata: { ...caller.claims.app_metadata, tenant_id: tenantId } } };
}
