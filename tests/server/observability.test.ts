import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observability/logger.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { startTracing } from '../../src/observability/tracing.ts';
import { closeGracefully, listen } from '../../src/server/http.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createTestGateway, tokenFor } from '../support/gateway.ts';
import { createWorld, type World } from '../support/world.ts';

let db: TestDatabase;
let world: World;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
});
afterAll(() => db?.close());

/** A logger whose JSON lines the test reads back, raw and parsed. */
function capturedLogger() {
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      raw.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ level: 'debug', destination });
  return { logger, raw, lines: () => raw.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe('request logs', () => {
  it('one JSON line per request: request id (taken or made, and returned), operation, caller, tenant, duration, statements, outcome', async () => {
    const { logger, lines } = capturedLogger();
    const api = createTestGateway(db, { logger });
    const token = await tokenFor(world.a.member, world.a.id);
    const ok = await api.graphql('query Mine { viewer { role } }', { token, headers: { 'x-request-id': 'client-chosen-42' } });
    expect(ok.headers.get('x-request-id')).toBe('client-chosen-42');
    const made = await api.graphql('query Mine { viewer { role } }', { token, headers: { 'x-request-id': 'not a sane id\nforged: line' } });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const requests = lines().filter((line) => line.msg === 'request');
    expect(requests).toHaveLength(2);
    expect(requests[0]).toMatchObject({
      level: 30,
      reqId: 'client-chosen-42',
      method: 'POST',
      status: 200,
      operation: 'Mine',
      operationType: 'query',
      caller: world.a.member.id,
      via: 'jwt',
      tenant: world.a.id,
      statements: expect.any(Number),
      cost: 2,
      outcome: 'ok',
    });
    expect(requests[0]!.statements as number).toBeGreaterThan(0);
    expect(typeof requests[0]!.durationMs).toBe('number');
    // A planned read counts its statements too: the opening, the one statement, COMMIT.
    await api.graphql('query Planned { projects { totalCount } }', { token });
    const planned = lines().find((line) => line.msg === 'request' && line.operation === 'Planned');
    expect(planned).toMatchObject({ status: 200, outcome: 'ok', statements: 3 });
    expect(requests[1]!.reqId).toBe(made.headers.get('x-request-id'));
  });

  it('never writes a token or an API key, and expected refusals are info lines without a stack', async () => {
    const { logger, raw, lines } = capturedLogger();
    const api = createTestGateway(db, { logger });
    const token = await tokenFor(world.a.member, world.a.id);
    const forged = `${token.slice(0, -4)}AAAA`;
    expect((await api.graphql('{ viewer { role } }', { token: forged })).status).toBe(401);
    expect((await api.graphql('{ viewer { role } }', { headers: { 'x-api-key': 'gwk_not-a-real-key-but-secret-looking' } })).status).toBe(401);
    const anonymous = await api.graphql('{ projects { totalCount } }');
    expect(anonymous.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    await api.graphql('{ viewer { role } }', { token });
    const text = raw.join('\n');
    expect(text).not.toContain(token);
    expect(text).not.toContain(forged);
    expect(text).not.toContain('not-a-real-key-but-secret-looking');
    expect(text).not.toMatch(/"stack"/);
    expect(lines().filter((line) => (line.level as number) >= 50)).toEqual([]);
    expect(lines().filter((line) => line.msg === 'request').map((line) => line.outcome)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED', 'ok']);
  });

  it('an unexpected error reaches the client masked as INTERNAL while the log keeps the cause and its stack', async () => {
    const { logger, lines } = capturedLogger();
    const broken = new Proxy(db.prisma, {
      get: (target, property, receiver) =>
        property === '$transaction' ? () => Promise.reject(new Error('disk on fire at /var/secret/path')) : Reflect.get(target, property, receiver),
    });
    const api = createTestGateway(db, { logger, prisma: broken });
    const response = await api.graphql('{ viewer { role } }', { token: await tokenFor(world.a.member, world.a.id) });
    expect(JSON.stringify(response.body)).not.toContain('disk on fire');
    expect(response.body.errors?.[0]).toMatchObject({ message: 'Unexpected error.', extensions: { code: 'INTERNAL' } });
    const failure = lines().find((line) => line.msg === 'unexpected error') as { level: number; err: { message: string; stack: string } };
    expect(failure.level).toBe(50);
    expect(failure.err.message).toBe('disk on fire at /var/secret/path');
    expect(failure.err.stack).toContain('observability.test.ts');
    expect(lines().find((line) => line.msg === 'request failed')).toMatchObject({ outcome: 'INTERNAL', level: 50 });
  });
});

describe('metrics', () => {
  it('serves Prometheus text: requests and durations by operation and outcome, SQL statements, limit refusals, pool connections', async () => {
    const metrics = createMetrics({
      pool: db.kind === 'postgres' ? { total: () => 3, idle: () => 1, waiting: () => 0 } : undefined,
    });
    const api = createTestGateway(db, { metrics });
    const token = await tokenFor(world.a.member, world.a.id);
    await api.graphql('query Mine { viewer { role } }', { token });
    const deep = '{ viewer { user { id } } }';
    await createTestGateway(db, { metrics, queryLimits: { maxDepth: 1 } }).graphql(deep, { token });
    const response = await api.yoga.fetch('http://gateway.test/metrics');
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toMatch(/gateway_requests_total\{operation="Mine",outcome="ok"\} 1/);
    expect(text).toMatch(/gateway_request_duration_seconds_count\{operation="Mine",outcome="ok"\} 1/);
    expect(text).toMatch(/gateway_sql_statements_total [1-9]\d*/);
    expect(text).toMatch(/gateway_limit_refusals_total\{code="QUERY_TOO_DEEP"\} 1/);
    if (db.kind === 'postgres') expect(text).toMatch(/gateway_db_pool_connections\{state="in_use"\} 2/);
    expect(text).toMatch(/process_resident_memory_bytes/);
  });
});

describe('tracing', () => {
  it('one trace runs from the HTTP request through parse, validate and execute down to each SQL statement', async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = startTracing({ serviceName: 'test', processor: new SimpleSpanProcessor({ exporter }) });
    const api = createTestGateway(db, { plugins: [tracing.plugin] });
    const server = await listen(api.yoga, '127.0.0.1', 0, { tracer: tracing.tracer });
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${await tokenFor(world.a.member, world.a.id)}`,
          traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        },
        body: JSON.stringify({ query: 'query Traced { projects(first: 2) { totalCount } }' }),
      });
      expect(response.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const spans = exporter.getFinishedSpans();
      const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
      const parentOf = (span: (typeof spans)[number]) => byId.get(span.parentSpanContext?.spanId ?? '');
      const http = spans.find((span) => span.name === 'POST /graphql');
      expect(http).toBeDefined();
      // The caller's trace continues.
      expect(http!.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
      for (const name of ['graphql.parse', 'graphql.validate', 'graphql.execute Traced']) {
        const span = spans.find((candidate) => candidate.name === name);
        expect(span, name).toBeDefined();
        expect(parentOf(span!)?.name).toBe('POST /graphql');
      }
      const statements = spans.filter((span) => /db_query|db\.query/.test(span.name));
      expect(statements.length).toBeGreaterThan(0);
      for (const statement of statements) {
        expect(statement.spanContext().traceId).toBe(http!.spanContext().traceId);
        let ancestor = parentOf(statement);
        while (ancestor && !ancestor.name.startsWith('graphql.execute')) ancestor = parentOf(ancestor);
        expect(ancestor?.name, `${statement.name} under execute`).toBe('graphql.execute Traced');
      }
    } finally {
      await closeGracefully(server);
      await tracing.shutdown();
    }
  });
});
