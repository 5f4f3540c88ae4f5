import { escapeLiteral } from 'pg';
import type { Database, Queryable } from '../db/database.ts';

/** The database roles a request may run as; the gateway login can switch to these only. */
export const API_ROLES = ['anon', 'authenticated', 'service_role'] as const;
export type ApiRole = (typeof API_ROLES)[number];

/** Claims of a verified JWT, as Supabase Auth issues them. `user_metadata` never grants anything. */
export interface RequestClaims {
  sub?: string;
  role: ApiRole;
  app_metadata?: { tenant_id?: string; [key: string]: unknown };
  [claim: string]: unknown;
}

/** A signed-in user: the `authenticated` role with a user id (not anon, not service_role). */
export const isSignedIn = (claims: RequestClaims): claims is RequestClaims & { sub: string } =>
  claims.role === 'authenticated' && typeof claims.sub === 'string';

/** Who is calling, as authentication established it; the session runs as these claims. */
export interface Caller {
  claims: RequestClaims;
  via: 'anonymous' | 'jwt' | 'api_key';
  /** The API key's id, for callers that sent one: what logs and rate limits name them by. */
  keyId?: string;
}

export class ClaimsError extends Error {
  readonly code = 'UNAUTHENTICATED';
}

export interface ClaimOptions {
  readOnly?: boolean;
  /** Longest one statement may run (statement_timeout), in milliseconds; unset keeps the server's. */
  statementTimeoutMs?: number;
  /**
   * Longest the transaction may sit idle (idle_in_transaction_session_timeout): the server ends it
   * and frees the connection even if the gateway stalls.
   */
  idleTimeoutMs?: number;
}

const CLAIM_SETTINGS = `select set_config('role', $1, true),
                 set_config('request.jwt.claims', $2, true),
                 set_config('request.jwt.claim.role', $1, true),
                 set_config('request.jwt.claim.sub', $3, true),
                 set_config('request.jwt.claim.tenant_id', $4, true),
                 set_config('transaction_read_only', $5, true),
                 set_config('statement_timeout', coalesce($6, current_setting('statement_timeout')), true),
                 set_config('idle_in_transaction_session_timeout',
                            coalesce($7, current_setting('idle_in_transaction_session_timeout')), true)`;

function claimValues(claims: RequestClaims, options: ClaimOptions): (string | null)[] {
  if (!API_ROLES.includes(claims.role)) {
    throw new ClaimsError(`claim "role" must be one of ${API_ROLES.join(', ')}, got ${JSON.stringify(claims.role)}`);
  }
  const tenantId = claims.app_metadata?.tenant_id;
  return [
    claims.role,
    JSON.stringify(claims),
    claims.sub ?? '',
    typeof tenantId === 'string' ? tenantId : '',
    options.readOnly ? 'on' : 'off',
    // Null keeps whatever the role or server says (0 would mean "no limit").
    options.statementTimeoutMs ? `${options.statementTimeoutMs}ms` : null,
    options.idleTimeoutMs ? `${options.idleTimeoutMs}ms` : null,
  ];
}

/**
 * The first statement of every request transaction: switches to the claims' role and
 * publishes the claims the way PostgREST does (`request.jwt.claims`), plus the scalar
 * settings policies read cheaply. Everything is transaction-local, so nothing leaks to the
 * next request on the same connection. Read-only can still be set here because a
 * transaction may always become read-only, just never read-write again.
 *
 * It travels in one round trip with BEGIN, as a script, and a script cannot take parameters:
 * the values are quoted as literals (pg's escapeLiteral, which doubles quotes and escapes
 * backslashes; every value is a string or null).
 */
export function claimsStatement(claims: RequestClaims, options: ClaimOptions = {}): string {
  const values = claimValues(claims, options);
  return CLAIM_SETTINGS.replace(/\$(\d)/g, (_match, index: string) => {
    const value = values[Number(index) - 1];
    return value === null || value === undefined ? 'null::text' : escapeLiteral(value);
  });
}

/** Runs fn in one transaction as the caller; see claimsStatement. */
export function withClaims<T>(
  db: Database,
  claims: RequestClaims,
  fn: (tx: Queryable) => Promise<T>,
  options: ClaimOptions = {},
): Promise<T> {
  return db.transaction(fn, claimsStatement(claims, options));
}
