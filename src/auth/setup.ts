import type { AuthConfig } from '../config.ts';
import { loadOrCreateDevSecret } from './dev-secret.ts';
import { createTokenVerifier, type TokenVerifier } from './verifier.ts';

export interface TokenSetup {
  verifyToken: TokenVerifier;
  /** Set in development when no key was configured and a local secret signs tokens instead. */
  devSecret?: { secret: string; file: string; created: boolean };
}

/** The configured keys, or (outside production, with none configured) a local development secret. */
export async function setUpTokens(auth: AuthConfig, dataDir: string): Promise<TokenSetup> {
  if (auth.jwtSecret || auth.jwksUrl) {
    return { verifyToken: createTokenVerifier({ hsSecret: auth.jwtSecret, jwksUrl: auth.jwksUrl, issuer: auth.issuer, audience: auth.audience }) };
  }
  const devSecret = await loadOrCreateDevSecret(dataDir);
  return {
    verifyToken: createTokenVerifier({ hsSecret: devSecret.secret, issuer: auth.issuer, audience: auth.audience }),
    devSecret,
  };
}
