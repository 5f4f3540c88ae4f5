import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** What one HTTP request did, gathered as it goes and written out as its log line and metrics. */
export interface RequestScope {
  id: string;
  startedAt: number;
  /** SQL statements sent while the operation executed (its transaction, its lookups). */
  statements: number;
  operationName?: string;
  operationType?: string;
  callerId?: string;
  via?: string;
  tenantId?: string;
  /** The operation's cost as the cost limit measured it. */
  cost?: number;
  /** The code of the first error the client received, if any. */
  errorCode?: string;
}

const storage = new AsyncLocalStorage<RequestScope>();

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A client's x-request-id when it is a sane token (so it cannot forge log lines), else a new one. */
export function requestIdFrom(header: string | null): string {
  return header && REQUEST_ID.test(header) ? header : randomUUID();
}

export function newRequestScope(id: string): RequestScope {
  return { id, startedAt: performance.now(), statements: 0 };
}

/** Runs fn with scope as the current request's, so statements issued inside are counted against it. */
export function runInRequestScope<T>(scope: RequestScope, fn: () => T): T {
  return storage.run(scope, fn);
}

export function currentRequestScope(): RequestScope | undefined {
  return storage.getStore();
}

/** Counts one SQL statement against the request being served, if any. */
export function countStatement(): void {
  const scope = storage.getStore();
  if (scope) scope.statements += 1;
}
