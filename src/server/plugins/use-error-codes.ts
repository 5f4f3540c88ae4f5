import type { GraphQLError } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { type ErrorCode, isErrorCode } from '../../errors.ts';

/** Codes yoga itself gives, and what they are called here. */
const YOGA_CODES: Record<string, ErrorCode> = { REQUEST_ENTITY_TOO_LARGE: 'BODY_TOO_LARGE', BAD_REQUEST: 'BAD_REQUEST' };

/** The code for an error yoga or graphql-js made before execution, which carries none of ours. */
function codeFor(error: GraphQLError): ErrorCode {
  const given = error.extensions?.code;
  if (typeof given === 'string' && YOGA_CODES[given]) return YOGA_CODES[given];
  const status = (error.extensions?.http as { status?: number } | undefined)?.status;
  if (error.message.startsWith('Syntax Error')) return 'GRAPHQL_PARSE_FAILED';
  if (error.locations?.length && (status === undefined || status === 400)) return 'GRAPHQL_VALIDATION_FAILED';
  if (status !== undefined && status >= 400 && status < 500) return 'BAD_REQUEST';
  return 'INTERNAL';
}

/**
 * Every error a client receives carries a code from the closed list (ERROR_CODES): errors that
 * arrive without one (yoga's request parsing, graphql-js' syntax and validation errors) get the
 * code that names what they are; anything else unrecognised is INTERNAL.
 */
export function useErrorCodes(): Plugin {
  return {
    onResultProcess({ result, setResult }) {
      if (Array.isArray(result) || !result || typeof result !== 'object' || !('errors' in result) || !result.errors) return;
      const errors = result.errors as readonly GraphQLError[];
      if (errors.every((error) => isErrorCode(error.extensions?.code))) return;
      setResult({
        ...result,
        errors: errors.map((error) =>
          isErrorCode(error.extensions?.code)
            ? error
            : createGraphQLError(error.message, {
                nodes: error.nodes,
                source: error.source,
                positions: error.positions,
                path: error.path,
                extensions: { ...error.extensions, code: codeFor(error) },
              }),
        ),
      });
    },
  };
}
