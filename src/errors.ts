import { RowNotFoundError } from './loaders/find-unique.ts';

/** The closed list of error codes a client can receive. */
export const ERROR_CODES = [
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'VALIDATION_FAILED',
  'CONFLICT',
  'INSUFFICIENT_CREDITS',
  'QUOTA_EXCEEDED',
  'INVALID_TRANSITION',
  'LAST_OWNER',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

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

const BY_SQLSTATE: Record<string, ErrorCode> = {
  GW001: 'INSUFFICIENT_CREDITS',
  GW002: 'LAST_OWNER',
  GW003: 'INVALID_TRANSITION',
  GW005: 'QUOTA_EXCEEDED',
  '42501': 'FORBIDDEN',
  P0002: 'NOT_FOUND',
  '23505': 'CONFLICT',
  '23503': 'NOT_FOUND',
  '23514': 'VALIDATION_FAILED',
  '23502': 'VALIDATION_FAILED',
  '22023': 'VALIDATION_FAILED',
  '22P02': 'VALIDATION_FAILED',
  '22001': 'VALIDATION_FAILED',
};

// Messages the database writes for the project's own codes are meant for callers; others are not.
const OWN_MESSAGES = new Set(['GW001', 'GW002', 'GW003', 'GW005', '22023', 'P0002']);

const GENERIC: Record<ErrorCode, string> = {
  UNAUTHENTICATED: 'authentication is required',
  FORBIDDEN: 'your role in this tenant does not allow this',
  NOT_FOUND: 'no such record is visible to you',
  VALIDATION_FAILED: 'the input breaks a rule of the data model',
  CONFLICT: 'a record with the same unique value already exists',
  INSUFFICIENT_CREDITS: 'your credit balance is too low',
  QUOTA_EXCEEDED: 'the tenant has reached a quota of its plan',
  INVALID_TRANSITION: 'that status change is not allowed',
  LAST_OWNER: 'a tenant must keep at least one OWNER',
};

interface DriverCause {
  originalCode?: string;
  code?: string;
  originalMessage?: string;
  message?: string;
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
  if (error instanceof RowNotFoundError) return new DomainError('NOT_FOUND', GENERIC.NOT_FOUND);
  const { state, message, prismaCode } = sqlStateOf(error);
  if (prismaCode === 'P2025') return new DomainError('NOT_FOUND', GENERIC.NOT_FOUND);
  if (prismaCode === 'P2002') return new DomainError('CONFLICT', GENERIC.CONFLICT);
  const code = state ? BY_SQLSTATE[state] : undefined;
  if (!code) return undefined;
  return new DomainError(code, state && OWN_MESSAGES.has(state) && message ? message : GENERIC[code]);
}
