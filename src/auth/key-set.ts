import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type ExportedJWKSCache,
  type JSONWebKeySet,
  type JWKSCacheInput,
  jwksCache,
  type JWTVerifyGetKey,
} from 'jose';

export interface KeySetOptions {
  /** How long after its last successful fetch a key set still verifies tokens while the endpoint fails. */
  staleIfErrorMs?: number;
  /** How long the endpoint is left alone after a failed fetch, the last good set serving meanwhile. */
  retryAfterFailureMs?: number;
}

/** jose refetches on an unknown kid at most this often, so made-up kids cannot hammer the endpoint. */
export const JWKS_COOLDOWN_MS = 30_000;

/**
 * A remote JWKS (jose: cached 10 minutes, refetched on an unknown kid after the cooldown) that
 * rides out an outage of its endpoint: when a fetch fails, tokens keep being checked against
 * the last key set fetched within `staleIfErrorMs`, and the endpoint is retried every
 * `retryAfterFailureMs` rather than on every request. With no usable set the failure is thrown;
 * `isKeySourceFailure` recognises it.
 */
export function createKeySet(url: URL, options: KeySetOptions = {}): JWTVerifyGetKey {
  const staleIfErrorMs = options.staleIfErrorMs ?? 60 * 60_000;
  const retryAfterFailureMs = options.retryAfterFailureMs ?? JWKS_COOLDOWN_MS;
  // jose writes every successfully fetched set and its time into this object.
  const cache: JWKSCacheInput = {};
  const remote = createRemoteJWKSet(url, { cooldownDuration: JWKS_COOLDOWN_MS, [jwksCache]: cache });
  let failedAt = Number.NEGATIVE_INFINITY;
  let memo: { jwks: JSONWebKeySet; keys: ReturnType<typeof createLocalJWKSet> } | undefined;

  function lastGood() {
    const { jwks, uat } = cache as Partial<ExportedJWKSCache>;
    if (!jwks || uat === undefined || Date.now() - uat > staleIfErrorMs) return undefined;
    if (memo?.jwks !== jwks) memo = { jwks, keys: createLocalJWKSet(jwks) };
    return memo.keys;
  }

  return async (header, token) => {
    const stale = lastGood();
    if (stale && Date.now() - failedAt < retryAfterFailureMs) return stale(header, token);
    try {
      return await remote(header, token);
    } catch (error) {
      if (!isKeySourceFailure(error)) throw error;
      failedAt = Date.now();
      if (!stale) throw error;
      return stale(header, token);
    }
  };
}

/**
 * jose's failures to obtain the JWKS: a timeout, a body that is not a key set, a non-200 answer
 * or unparsable JSON (plain JOSEError), and fetch's own network failure.
 */
export function isKeySourceFailure(error: unknown): boolean {
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) return true;
  if (error instanceof Error && error.constructor === errors.JOSEError) return true;
  return error instanceof TypeError && error.message === 'fetch failed';
}
