import { createGraphQLError } from 'graphql-yoga';
import type { GraphQLError } from 'graphql';

/**
 * The closed list of error codes a client can receive, in `extensions.code` of any error and in
 * `MutationError.code`. The schema publishes it as the ErrorCode enum; README lists it too.
 */
export const ERROR_CODES = {
  UNAUTHENTICATED: 'The credential is missing where one is needed, or does not verify (HTTP 401).',
  FORBIDDEN: 'Your role, or the kind of credential you used, does not allow this.',
  NOT_FOUND: 'No such record is visible to you.',
  VALIDATION_FAILED: 'An argument breaks a rule; the message names it, what was expected and what was received.',
  CONFLICT: 'A record with the same unique value already exists.',
  INSUFFICIENT_CREDITS: 'The balance (or the tenant pool) is too low for this.',
  QUOTA_EXCEEDED: 'The tenant has used up a quota of its plan (members, projects, storage, monthly API calls).',
  INVALID_TRANSITION: 'That status change is not allowed.',
  LAST_OWNER: 'A tenant must keep at least one OWNER.',
  TENANT_SUSPENDED: 'The active tenant is suspended or archived (HTTP 403).',
  RATE_LIMITED: 'Too many requests for the tenant, the caller or the address; retry after Retry-After seconds (HTTP 429).',
  QUERY_TOO_DEEP: 'The operation nests deeper than the limit (HTTP 400).',
  QUERY_TOO_COMPLEX: 'The operation would cost more than the limit; page sizes multiply what is below them (HTTP 400).',
  TOO_MANY_ALIASES: 'The operation uses more aliases than the limit (HTTP 400).',
  TOO_MANY_DIRECTIVES: 'The operation uses more directives than the limit (HTTP 400).',
  TOO_MANY_TOKENS: 'The document is longer than the token limit (HTTP 400).',
  LIST_TOO_LONG: 'A list argument or variable has more items than the limit (HTTP 400).',
  BODY_TOO_LARGE: 'The request body is larger than the limit (HTTP 413).',
  BAD_REQUEST: 'The HTTP request is not a GraphQL request the gateway accepts (HTTP 400 or 405).',
  GRAPHQL_PARSE_FAILED: 'The document is not valid GraphQL syntax (HTTP 400).',
  GRAPHQL_VALIDATION_FAILED: 'The document does not fit the schema (HTTP 400).',
  TIMEOUT: 'A statement ran past the statement timeout; nothing of the operation was saved.',
  AUTH_UNAVAILABLE: 'The signing keys could not be fetched to check the token; retry, it may be fine (HTTP 503).',
  DATABASE_UNAVAILABLE: 'The database cannot be reached; retry later (HTTP 503).',
  SUBSCRIBER_TOO_SLOW: 'A subscription fell too far behind its events and was ended; subscribe again and re-read what changed.',
  SEARCH_UNAVAILABLE: 'The search text could not be embedded (the AI provider failed or is not configured); KEYWORD search still works.',
  INTERNAL: 'Something unexpected failed; the cause is in the gateway\'s log under the request id.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
export const ERROR_CODE_NAMES = Object.keys(ERROR_CODES) as ErrorCode[];

export const isErrorCode = (value: unknown): value is ErrorCode => typeof value === 'string' && value in ERROR_CODES;

/** A failure the caller can act on; its message is shown as is. Anything else is masked. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

/**
 * An HTTP-level refusal: graphql-yoga answers with this status (and headers) and the code in
 * extensions. Built with yoga's createGraphQLError so yoga recognises it even where graphql is
 * loaded twice.
 */
export function refuse(status: number, code: ErrorCode, message: string, headers?: Record<string, string>): GraphQLError {
  return createGraphQLError(message, { extensions: { code, http: { status, ...(headers ? { headers } : {}) } } });
}

const BY_SQLSTATE: Record<string, ErrorCode> = {
  GW001: 'INSUFFICIENT_CREDITS',
  GW002: 'LAST_OWNER',
  GW003: 'INVALID_TRANSITION',
  GW005: 'QUOTA_EXCEEDED',
  GW006: 'TENANT_SUSPENDED',
  '42501': 'FORBIDDEN',
  P0002: 'NOT_FOUND',
  '23505': 'CONFLICT',
  '23503': 'NOT_FOUND',
  '23514': 'VALIDATION_FAILED',
  '23502': 'VALIDATION_FAILED',
  '22023': 'VALIDATION_FAILED',
  '22P02': 'VALIDATION_FAILED',
  '22001': 'VALIDATION_FAILED',
  '57014': 'TIMEOUT',
};

// Messages the database writes for the project's own codes are meant for callers; others are not.
const OWN_MESSAGES = new Set(['GW001', 'GW002', 'GW003', 'GW005', 'GW006', '22023', 'P0002']);

const GENERIC: Partial<Record<ErrorCode, string>> = {
  UNAUTHENTICATED: 'authentication is required',
  FORBIDDEN: 'your role in this tenant does not allow this',
  NOT_FOUND: 'no such record is visible to you',
  VALIDATION_FAILED: 'the input breaks a rule of the data model',
  CONFLICT: 'a record with the same unique value already exists',
  INSUFFICIENT_CREDITS: 'your credit balance is too low',
  QUOTA_EXCEEDED: 'the tenant has reached a quota of its plan',
  INVALID_TRANSITION: 'that status change is not allowed',
  LAST_OWNER: 'a tenant must keep at least one OWNER',
  TENANT_SUSPENDED: 'the active tenant is suspended',
  TIMEOUT: 'the operation ran past the statement timeout; nothing was saved',
};

interface DriverCause {
  originalCode?: string;
  code?: string;
  originalMessage?: string;
  message?: string;
  kind?: string;
}

function sqlStateOf(error: unknown): { state?: string; message?: string; prismaCode?: string } {
  const e = error as { code?: unknown; meta?: { driverAdapterError?: { cause?: DriverCause } }; message?: string };
  const cause = e?.meta?.driverAdapterError?.cause;
  if (cause) return { state: cause.originalCode ?? cause.code, message: cause.originalMessage ?? cause.message };
  if (typeof e?.code === 'string' && /^P\d{4}$/.test(e.code)) return { prismaCode: e.code };
  if (typeof e?.code === 'string' && e.code.length === 5) return { state: e.code, message: e.message };
  return {};
}

/** Turns a database or Prisma failure into a DomainError, or undefined if it is internal. */
export function toDomainError(error: unknown): DomainError | undefined {
  if (error instanceof DomainError) return error;
  const { state, message, prismaCode } = sqlStateOf(error);
  if (prismaCode === 'P2025') return new DomainError('NOT_FOUND', GENERIC.NOT_FOUND!);
  if (prismaCode === 'P2002') return new DomainError('CONFLICT', GENERIC.CONFLICT!);
  const code = state ? BY_SQLSTATE[state] : undefined;
  if (!code) return undefined;
  return new DomainError(code, state && OWN_MESSAGES.has(state) && message ? message : GENERIC[code]!);
}

const UNREACHABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'EPIPE']);

/**
 * True when the database could not be reached or went away (refused or dropped connections, a
 * pool that could not hand out a connection in time, a server shutting down): the caller should
 * retry, so it is answered 503, not masked as a bug.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error as { code?: unknown; cause?: unknown; meta?: unknown; message?: unknown } | undefined, depth = 0;
    current && depth < 6;
    current = current.cause as typeof current, depth++) {
    const code = typeof current.code === 'string' ? current.code : '';
    if (UNREACHABLE_NODE_CODES.has(code)) return true;
    // Prisma: cannot reach the server (P1001), timed out (P1002), pool timeout (P2024), transaction API (P2028) timeouts.
    if (code === 'P1001' || code === 'P1002' || code === 'P2024') return true;
    // SQLSTATE class 08 (connection exception) and 57P01-03 (shutdown, crash, cannot connect now).
    if (/^08...$/.test(code) || /^57P0[123]$/.test(code)) return true;
    const cause = (current.meta as { driverAdapterError?: { cause?: DriverCause } } | undefined)?.driverAdapterError?.cause;
    const state = cause?.originalCode ?? cause?.code;
    if (state && (/^08...$/.test(state) || /^57P0[123]$/.test(state) || UNREACHABLE_NODE_CODES.has(state))) return true;
    if (typeof current.message === 'string' && /timeout exceeded when trying to connect|Connection terminated|PGlite is closed/i.test(current.message)) {
      return true;
    }
  }
  return false;
}
