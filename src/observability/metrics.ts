import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RequestScope } from './request-scope.ts';
import type { HubStats } from '../realtime/hub.ts';

/** Codes that mean a limit refused the request: counted on their own so an operator sees pressure. */
const LIMIT_CODES = new Set([
  'RATE_LIMITED',
  'QUOTA_EXCEEDED',
  'TENANT_SUSPENDED',
  'QUERY_TOO_DEEP',
  'QUERY_TOO_COMPLEX',
  'TOO_MANY_ALIASES',
  'TOO_MANY_DIRECTIVES',
  'TOO_MANY_TOKENS',
  'LIST_TOO_LONG',
  'BODY_TOO_LARGE',
]);

/** Operation names are the client's to choose: past this many distinct ones they are counted as `other`. */
const MAX_OPERATION_LABELS = 100;
const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** The connections a pool has, for the in-use and waiting gauges. */
export interface PoolStats {
  total(): number;
  idle(): number;
  waiting(): number;
}

/** Prometheus metrics of one gateway, in a registry of its own (so several can live in one process). */
export function createMetrics(options: { pool?: PoolStats; realtime?: () => HubStats } = {}) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const labels = ['operation', 'outcome'] as const;
  const requests = new Counter({ name: 'gateway_requests_total', help: 'GraphQL requests by operation and outcome (ok or error code).', labelNames: labels, registers: [registry] });
  const duration = new Histogram({
    name: 'gateway_request_duration_seconds',
    help: 'Time from request to response, by operation and outcome.',
    labelNames: labels,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const statements = new Counter({ name: 'gateway_sql_statements_total', help: 'SQL statements sent on behalf of GraphQL operations.', registers: [registry] });
  const statementsPerRequest = new Histogram({
    name: 'gateway_sql_statements_per_request',
    help: 'SQL statements one operation sent.',
    buckets: [0, 1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 50],
    registers: [registry],
  });
  const refusals = new Counter({ name: 'gateway_limit_refusals_total', help: 'Requests refused by a limit, by code.', labelNames: ['code'], registers: [registry] });
  const { pool } = options;
  if (pool) {
    new Gauge({
      name: 'gateway_db_pool_connections',
      help: 'Database connections of the gateway pool: in use, idle, and requests waiting for one.',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        this.set({ state: 'in_use' }, pool.total() - pool.idle());
        this.set({ state: 'idle' }, pool.idle());
        this.set({ state: 'waiting' }, pool.waiting());
      },
    });
  }

  const { realtime } = options;
  if (realtime) realtimeMetrics(registry, realtime);

  const operations = new Set<string>();
  const operationLabel = (name: string | undefined, type: string | undefined) => {
    // Refused before the document was read: nothing is known of the operation.
    if (!name) return type ? 'anonymous' : 'unknown';
    if (!OPERATION_NAME.test(name)) return 'other';
    if (operations.has(name)) return name;
    if (operations.size >= MAX_OPERATION_LABELS) return 'other';
    operations.add(name);
    return name;
  };

  return {
    registry,
    /** Records a finished GraphQL request. */
    observe(scope: RequestScope, seconds: number) {
      const outcome = scope.errorCode ?? 'ok';
      const operation = operationLabel(scope.operationName, scope.operationType);
      requests.inc({ operation, outcome });
      duration.observe({ operation, outcome }, seconds);
      statements.inc(scope.statements);
      statementsPerRequest.observe(scope.statements);
      if (LIMIT_CODES.has(outcome)) refusals.inc({ code: outcome });
    },
  };
}

export type GatewayMetrics = ReturnType<typeof createMetrics>;

/**
 * The realtime hub's figures, read when scraped: subscribers now, and what changes cost. Rows
 * read per change stays at most 1 however many subscribers there are; deliveries grow with them.
 */
function realtimeMetrics(registry: Registry, stats: () => HubStats): void {
  new Gauge({
    name: 'gateway_realtime_subscribers',
    help: 'Realtime subscriptions open on this process (GraphQL and Supabase Realtime).',
    registers: [registry],
    collect() {
      this.set(stats().subscribers);
    },
  });
  const counters = {
    changes: 'Changes of lifecycle rows announced for tenants with subscribers.',
    reads: 'Rows read to deliver those changes: one per change, whatever the number of subscribers.',
    deliveries: 'Changes handed to subscribers.',
  } as const;
  for (const [key, help] of Object.entries(counters) as [keyof typeof counters, string][]) {
    let seen = 0;
    new Counter({
      name: `gateway_realtime_${key}_total`,
      help,
      registers: [registry],
      collect() {
        const now = stats()[key];
        this.inc(now - seen);
        seen = now;
      },
    });
  }
}
