import { context, propagation, type Span, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanExporter, type SpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { PrismaInstrumentation, registerInstrumentations } from '@prisma/instrumentation';
import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';

const TRACER = 'tenant-graphql-gateway';

/** The tracer spans are started with; a no-op until tracing is started. */
export const tracer = (): Tracer => trace.getTracer(TRACER);

export interface TracingOptions {
  serviceName: string;
  /** OTLP/HTTP base URL (OTEL_EXPORTER_OTLP_ENDPOINT); spans go to `${endpoint}/v1/traces`. */
  endpoint?: URL;
  /** Tests pass an in-memory exporter and a processor that exports at once. */
  processor?: SpanProcessor;
}

/**
 * Registers a tracer provider, W3C trace-context propagation and Prisma's instrumentation, and
 * returns the yoga plugin that adds parse, validate and execute spans. With the HTTP span from
 * the server (src/server/http.ts) and the SQL spans from Prisma and the raw connections, one
 * trace runs from the request down to each statement.
 */
export function startTracing(options: TracingOptions) {
  const processor =
    options.processor ??
    new BatchSpanProcessor({
      exporter: new OTLPTraceExporter({ url: new URL('v1/traces', ensureSlash(options.endpoint!)).toString() }) as SpanExporter,
    });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    spanProcessors: [processor],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  const prisma = new PrismaInstrumentation();
  prisma.setTracerProvider(provider);
  const unregister = registerInstrumentations({ instrumentations: [prisma], tracerProvider: provider });
  return {
    tracer: provider.getTracer(TRACER),
    plugin: useTracing(provider.getTracer(TRACER)),
    async shutdown() {
      unregister();
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

const ensureSlash = (url: URL) => (url.pathname.endsWith('/') ? url : new URL(`${url.pathname}/`, url));

function ended(span: Span, error?: unknown) {
  if (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

/** Spans for parsing, validating and executing the operation, under the request's HTTP span. */
export function useTracing(spans: Tracer): Plugin {
  return {
    onParse() {
      const span = spans.startSpan('graphql.parse');
      return ({ result }) => ended(span, result instanceof Error ? result : undefined);
    },
    onValidate() {
      const span = spans.startSpan('graphql.validate');
      return ({ valid, result }) => {
        if (!valid) span.setAttribute('graphql.validation.errors', result.length);
        ended(span);
      };
    },
    onExecute({ args, executeFn, setExecuteFn }) {
      const operation = getOperationAST(args.document, args.operationName);
      const span = spans.startSpan(`graphql.execute ${operation?.name?.value ?? 'anonymous'}`, {
        attributes: {
          'graphql.operation.type': operation?.operation ?? 'unknown',
          'graphql.operation.name': operation?.name?.value ?? '',
        },
      });
      // Statements the resolvers send become children of this span.
      const active = trace.setSpan(context.active(), span);
      setExecuteFn((executeArgs) => context.with(active, () => executeFn(executeArgs)));
      return {
        onExecuteDone({ result }) {
          const errors = (result as { errors?: unknown[] }).errors;
          if (errors?.length) span.setAttribute('graphql.errors', errors.length);
          ended(span);
        },
      };
    },
  };
}

/** Runs a raw statement inside a span of its own (Prisma's statements get theirs from its instrumentation). */
export function withStatementSpan<T>(text: string, run: () => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(
    'db.query',
    { kind: SpanKind.CLIENT, attributes: { 'db.system.name': 'postgresql', 'db.query.text': text.slice(0, 2_000) } },
    async (span) => {
      try {
        const result = await run();
        span.end();
        return result;
      } catch (error) {
        ended(span, error);
        throw error;
      }
    },
  );
}
