import { createHash, randomBytes } from 'node:crypto';

/** Every key starts with this, so a bearer credential is told apart from a JWT without parsing. */
export const API_KEY_PREFIX = 'gwk_';

export interface GeneratedApiKey {
  /** Shown to its owner once, never stored. */
  secret: string;
  /** Stored: identifies the key in lists without revealing it. */
  displayPrefix: string;
  /** Stored: what a presented key is looked up by. */
  hash: string;
}

export function isApiKey(credential: string): boolean {
  return credential.startsWith(API_KEY_PREFIX);
}

export function hashApiKey(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function generateApiKey(): GeneratedApiKey {
  const secret = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { secret, displayPrefix: secret.slice(0, API_KEY_PREFIX.length + 6), hash: hashApiKey(secret) };
}
