import { DomainError, ERROR_CODES } from '../errors.ts';
import { builder } from './builder.ts';

export const ErrorCodeEnum = builder.enumType('ErrorCode', {
  description: 'Stable codes of the failures a client can act on.',
  values: ERROR_CODES,
});

// The failure branch of every mutation's result union.
builder.objectType(DomainError, {
  name: 'MutationError',
  description: 'Why a mutation did nothing. Nothing it attempted was written.',
  fields: (t) => ({
    code: t.field({ type: ErrorCodeEnum, resolve: (error) => error.code }),
    message: t.exposeString('message'),
  }),
});
