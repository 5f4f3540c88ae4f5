import type { RequestClaims } from './db/claims.ts';
import type { Database } from './db/database.ts';

/** What every resolver of one GraphQL request sees. */
export interface GatewayContext {
  db: Database;
  claims: RequestClaims;
}

/** Claims of a request that carries no credentials. */
export const ANONYMOUS: RequestClaims = { role: 'anon' };
