/** Why a request's credentials were refused; the message is safe to show the caller. */
export class AuthError extends Error {
  readonly code = 'UNAUTHENTICATED';
  constructor(message: string) {
    super(message);
    this.name = 'AuthError';
  }
}
