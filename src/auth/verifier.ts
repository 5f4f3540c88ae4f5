import { decodeProtectedHeader, errors, type JWTPayload, jwtVerify } from 'jose';
import { API_ROLES, type ApiRole, type RequestClaims } from '../session/claims.ts';
import { AuthError, KeySourceError } from './errors.ts';
import { createKeySet, isKeySourceFailure, type KeySetOptions } from './key-set.ts';

export interface VerifierOptions {
  /** Supabase's legacy shared secret: HS256 tokens. */
  hsSecret?: string;
  /** A JWKS endpoint: ES256 and RS256 tokens, cached and re-fetched on an unknown kid. */
  jwksUrl?: URL;
  /** How the JWKS rides out an outage of its endpoint (see createKeySet). */
  keySet?: KeySetOptions;
  issuer?: string;
  audience: string;
  /** Seconds of clock skew tolerated on exp and nbf. */
  clockToleranceSeconds?: number;
  /** Injected in tests to freeze time. */
  currentDate?: () => Date;
}

export type TokenVerifier = (token: string) => Promise<RequestClaims>;

const ASYMMETRIC = ['ES256', 'RS256'];

/**
 * Verifies a Supabase Auth JWT and returns its claims. Every refusal is an AuthError whose
 * message says what was wrong, never a 500; a key set that cannot be fetched is a
 * KeySourceError, since the token may well be valid.
 */
export function createTokenVerifier(options: VerifierOptions): TokenVerifier {
  // Imported once: given raw bytes, jose would import the key again for every token.
  const secret = options.hsSecret
    ? crypto.subtle.importKey('raw', new TextEncoder().encode(options.hsSecret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])
    : undefined;
  const jwks = options.jwksUrl ? createKeySet(options.jwksUrl, options.keySet) : undefined;
  if (!secret && !jwks) throw new Error('a token verifier needs SUPABASE_JWT_SECRET or a JWKS URL');

  const verified = new VerifiedTokens();
  return async (token) => {
    const now = options.currentDate?.() ?? new Date();
    const known = verified.get(token, now.getTime());
    if (known) return known;
    const alg = algorithmOf(token);
    const verifyOptions = {
      issuer: options.issuer,
      audience: options.audience,
      clockTolerance: options.clockToleranceSeconds ?? 5,
      currentDate: options.currentDate ? now : undefined,
    };
    try {
      let payload: JWTPayload;
      if (alg === 'HS256' && secret) {
        ({ payload } = await jwtVerify(token, await secret, { ...verifyOptions, algorithms: ['HS256'] }));
      } else if (ASYMMETRIC.includes(alg) && jwks) {
        ({ payload } = await jwtVerify(token, jwks, { ...verifyOptions, algorithms: ASYMMETRIC }));
      } else {
        const accepted = [...(secret ? ['HS256'] : []), ...(jwks ? ASYMMETRIC : [])].join(', ');
        throw new AuthError(`token algorithm ${alg} is not accepted here; accepted: ${accepted}`);
      }
      const claims = toClaims(payload);
      verified.set(token, claims, now.getTime());
      return claims;
    } catch (error) {
      if (isKeySourceFailure(error)) {
        throw new KeySourceError('the signing keys could not be fetched; try again shortly', { cause: error });
      }
      throw asAuthError(error);
    }
  };
}

/**
 * Tokens verified in the last minute, by their full text (signature included), so a client
 * sending the same token with every request is not checked again each time. An entry is used
 * only inside its token's own validity (exp, nbf, without the clock tolerance) and for at most a
 * minute, so a signing key withdrawn from the JWKS stops being honoured within that minute.
 */
class VerifiedTokens {
  private readonly entries = new Map<string, { claims: RequestClaims; from: number; until: number }>();
  private static readonly MAX = 10_000;
  private static readonly TTL_MS = 60_000;

  get(token: string, now: number): RequestClaims | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (now < entry.from || now >= entry.until) {
      this.entries.delete(token);
      return undefined;
    }
    return entry.claims;
  }

  set(token: string, claims: RequestClaims, now: number): void {
    const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : Infinity;
    const nbf = typeof claims.nbf === 'number' ? claims.nbf * 1000 : -Infinity;
    if (this.entries.size >= VerifiedTokens.MAX) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(token, { claims, from: Math.max(nbf, now), until: Math.min(exp, now + VerifiedTokens.TTL_MS) });
  }
}

function algorithmOf(token: string): string {
  try {
    const { alg } = decodeProtectedHeader(token);
    if (typeof alg !== 'string') throw new Error('no alg');
    return alg;
  } catch {
    throw new AuthError('the bearer token is not a well-formed JWT');
  }
}

function toClaims(payload: JWTPayload): RequestClaims {
  const role = payload.role ?? 'authenticated';
  if (!API_ROLES.includes(role as ApiRole)) {
    throw new AuthError(`token claim "role" must be one of ${API_ROLES.join(', ')}, got ${JSON.stringify(role)}`);
  }
  // service_role tokens (the billing backend, the worker) act as no user, like Supabase's service key.
  if (role === 'authenticated' && typeof payload.sub !== 'string') {
    throw new AuthError('token has no "sub" claim');
  }
  return { ...payload, role } as RequestClaims;
}

// jose's error classes map one to one onto messages a client can act on.
function asAuthError(error: unknown): AuthError {
  if (error instanceof AuthError) return error;
  if (error instanceof errors.JWTExpired) return new AuthError('token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return new AuthError('token is not yet valid');
    return new AuthError(`token claim "${error.claim}" is invalid: ${error.reason}`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return new AuthError('token signature is invalid');
  if (error instanceof errors.JWKSNoMatchingKey) return new AuthError('token was signed by an unknown key');
  if (error instanceof errors.JOSEAlgNotAllowed) return new AuthError('token algorithm is not accepted here');
  if (error instanceof errors.JOSEError) return new AuthError(`token could not be verified (${error.code})`);
  return new AuthError('token could not be verified');
}
