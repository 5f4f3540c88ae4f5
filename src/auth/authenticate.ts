import { type Caller, withClaims } from '../session/claims.ts';
import type { Database } from '../db/database.ts';
import type { Logger } from '../observability/logger.ts';
import { hashApiKey, isApiKey } from './api-keys.ts';
import { refuse } from '../errors.ts';
import { AuthError, KeySourceError } from './errors.ts';
import type { TokenVerifier } from './verifier.ts';

/** Who is calling, as established from the request's credentials. */
export interface AuthenticatorOptions {
  verifyToken: TokenVerifier;
  /** Where API keys are looked up (by hash, through private.authenticate_api_key). */
  db: Database;
  /** Where an unreachable key set is reported: operators need to know; callers get 503. */
  logger: Logger;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Resolves `Authorization: Bearer <JWT | API key>` or `x-api-key: <key>` to claims. No
 * credentials means `anon`; any credential that does not verify is a 401, never anon.
 */
export function createAuthenticator({ verifyToken, db, logger }: AuthenticatorOptions) {
  async function fromApiKey(key: string): Promise<Caller> {
    const rows = await withClaims(db, { role: 'anon' }, async (tx) =>
      (await tx.query<{ key_id: string; user_id: string; tenant_id: string }>(
        'select key_id, user_id, tenant_id from private.authenticate_api_key($1)',
        [hashApiKey(key)],
      )).rows,
    );
    const match = rows[0];
    if (!match) throw new AuthError('API key is unknown, revoked or expired');
    return {
      claims: { sub: match.user_id, role: 'authenticated', app_metadata: { tenant_id: match.tenant_id }, amr: [{ method: 'api_key' }] },
      via: 'api_key',
      keyId: match.key_id,
    };
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
      caller = isApiKey(credential) ? await fromApiKey(credential) : { claims: await verifyToken(credential), via: 'jwt' };
    } catch (error) {
      if (error instanceof AuthError) throw refuse(401, 'UNAUTHENTICATED', error.message);
      if (error instanceof KeySourceError) {
        logger.error({ err: error.cause }, 'token verification unavailable: the signing keys could not be fetched');
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
