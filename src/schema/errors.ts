import { DomainError, ERROR_CODES } from '../errors.ts';
import { builder } from './builder.ts';

export const ErrorCodeEnum = builder.enumType('ErrorCode', {
  description:
    'Every code a client can receive, in `extensions.code` of an error or in `MutationError.code`. The list is closed: anything unexpected is INTERNAL.',
  values: Object.fromEntries(Object.entries(ERROR_CODES).map(([code, description]) => [code, { description }])) as {
    [Code in keyof typeof ERROR_CODES]: { description: string };
  },
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
