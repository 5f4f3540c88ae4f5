/** Why a request's credentials were refused; the message is safe to show the caller. */
export class AuthError extends Error {
  readonly code = 'UNAUTHENTICATED';
  constructor(message: string) {
    super(message);
    this.name = 'AuthError';
  }
}

/**
 * The keys a token would be checked with could not be had (the JWKS endpoint is down, slow or
 * answers garbage). Not the caller's fault: answered 503 so clients retry instead of signing out.
 */
export class KeySourceError extends Error {
  readonly code = 'AUTH_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeySourceError';
  }
}
