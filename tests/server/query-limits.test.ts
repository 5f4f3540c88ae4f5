import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_QUERY_LIMITS } from '../../src/limits/query-limits.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createTestGateway, tokenFor } from '../support/gateway.ts';
import { createWorld, type World } from '../support/world.ts';

let db: TestDatabase;
let world: World;
let api: ReturnType<typeof createTestGateway>;
let token: string;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
  api = createTestGateway(db);
  token = await tokenFor(world.a.member, world.a.id);
});
afterAll(() => db?.close());

/** `analyses(first: 100) { edges { node { project { analyses(first: 100) ... } } } }`, `levels` deep. */
function nested(levels: number): string {
  let inner = 'id';
  for (let i = 0; i < levels; i += 1) inner = `analyses(first: 100) { edges { node { project { ${inner} } } } }`;
  return `{ projects(first: 100) { edges { node { ${inner} } } } }`;
}

/**
 * Sends a query as the member and counts the SQL it cost (how long refusals take is measured by
 * `npm run bench:hostile`, not asserted here). Asks for the
 * GraphQL-over-HTTP media type, whose refusals of bad documents are 400s (with plain
 * application/json the spec answers 200 and the same error).
 */
async function refused(query: string, variables?: Record<string, unknown>) {
  db.statements.length = 0;
  const response = await api.graphql(query, { token, variables, headers: { accept: 'application/graphql-response+json' } });
  return {
    status: response.status,
    code: response.body.errors?.[0]?.extensions?.code,
    message: response.body.errors?.[0]?.message,
    statements: db.statements.length,
    data: response.body.data,
  };
}

describe('query limits, refused before any SQL with a stable code', () => {
  it('a query nested 20 levels deep is QUERY_TOO_DEEP', async () => {
    const result = await refused(nested(20));
    expect(result).toMatchObject({ status: 400, code: 'QUERY_TOO_DEEP', statements: 0 });
    expect(result.message).toMatch(/depth limit of 12 exceeded/);
  });

  it('a shallow query whose pages multiply past the cost limit is QUERY_TOO_COMPLEX', async () => {
    const result = await refused(nested(2));
    expect(result).toMatchObject({ status: 400, code: 'QUERY_TOO_COMPLEX', statements: 0 });
    expect(result.message).toMatch(/would cost \d+, more than the limit of 10000/);
    // The same shape with small pages is served.
    const small = await api.graphql('{ projects(first: 5) { edges { node { analyses(first: 5) { edges { node { project { id } } } } } } } }', { token });
    expect(small.body.errors).toBeUndefined();
  });

  it('page sizes from variables count as much as literals', async () => {
    const query = `query ($n: Int) { projects(first: $n) { edges { node { analyses(first: $n) { edges { node {
      analyses: project { analyses(first: $n) { edges { node { id input } } } } } } } } } } }`;
    expect((await refused(query, { n: 100 })).code).toBe('QUERY_TOO_COMPLEX');
    expect((await api.graphql(query, { token, variables: { n: 3 } })).body.errors).toBeUndefined();
  });

  it('2,000 aliases are TOO_MANY_ALIASES (or too many tokens), never executed', async () => {
    const aliases = Array.from({ length: 2000 }, (_, i) => `a${i}: projects(first: 100) { totalCount }`).join(' ');
    const result = await refused(`{ ${aliases} }`);
    expect(result.status).toBe(400);
    expect(['TOO_MANY_ALIASES', 'TOO_MANY_TOKENS']).toContain(result.code);
    expect(result.statements).toBe(0);
    const fewer = Array.from({ length: 31 }, (_, i) => `a${i}: viewer { role }`).join(' ');
    expect((await refused(`{ ${fewer} }`)).code).toBe('TOO_MANY_ALIASES');
  });

  it('directives past the limit are TOO_MANY_DIRECTIVES', async () => {
    const directives = Array.from({ length: 21 }, () => '@include(if: true)').join(' ');
    expect((await refused(`{ viewer ${directives} { role } }`)).code).toBe('TOO_MANY_DIRECTIVES');
  });

  it('a document past the token limit is TOO_MANY_TOKENS', async () => {
    const fields = Array.from({ length: 2100 }, () => 'role').join(' ');
    expect((await refused(`{ viewer { ${fields} } }`)).code).toBe('TOO_MANY_TOKENS');
  });

  it('a 100,000-id nodes(ids:) list is refused, as a literal or a variable', async () => {
    const ids = Array.from({ length: 100_000 }, (_, i) => encodeGlobalID('Project', `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`));
    const asVariable = await refused('query ($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids });
    expect([asVariable.status, asVariable.code]).toEqual([413, 'BODY_TOO_LARGE']);
    const some = ids.slice(0, 101);
    expect(await refused('query ($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids: some })).toMatchObject({
      status: 400,
      code: 'LIST_TOO_LONG',
      statements: 0,
    });
    const literal = await refused(`{ nodes(ids: [${some.map((id) => JSON.stringify(id)).join(', ')}]) { id } }`);
    expect(literal).toMatchObject({ status: 400, code: 'LIST_TOO_LONG', statements: 0 });
    expect((await api.graphql('query ($ids: [ID!]!) { nodes(ids: $ids) { id } }', { token, variables: { ids: some.slice(0, 100) } })).body.errors).toBeUndefined();
  });

  it('a body over 1 MB is BODY_TOO_LARGE (413), whether or not it declares its length', async () => {
    const big = JSON.stringify({ query: '{ viewer { role } }', variables: { pad: 'x'.repeat(8 * 1024 * 1024) } });
    const declared = await api.yoga.fetch('http://gateway.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(big.length) },
      body: big,
    });
    expect(declared.status).toBe(413);
    expect(((await declared.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('BODY_TOO_LARGE');
    // Streamed without a length: cut off once it passes the limit.
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
        for (let i = 0; i < 32; i += 1) controller.enqueue(chunk);
        controller.close();
      },
    });
    const streamed = await api.yoga.fetch('http://gateway.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: chunks,
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
  });

  it('batching stays off: an array of operations is a BAD_REQUEST', async () => {
    const response = await api.yoga.fetch('http://gateway.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ query: '{ viewer { role } }' }, { query: '{ viewer { role } }' }]),
    });
    const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
    expect(response.status).toBe(400);
    expect(body.errors[0]!.extensions.code).toBe('BAD_REQUEST');
  });

  it('introspection is exempt from the depth limit, and GraphiQL’s introspection query is served', async () => {
    const { getIntrospectionQuery } = await import('graphql');
    const response = await api.graphql(getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true, schemaDescription: true }));
    expect(response.body.errors).toBeUndefined();
    expect((response.body.data as { __schema: { types: unknown[] } }).__schema.types.length).toBeGreaterThan(50);
  });

  it('the limits are configurable', async () => {
    const strict = createTestGateway(db, { queryLimits: { maxDepth: 2, maxCost: 10 } });
    const deep = await strict.graphql('{ viewer { user { id } } }', { token });
    expect(deep.body.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_DEEP');
    const costly = await strict.graphql('{ projects(first: 11) { totalCount } }', { token });
    expect(costly.body.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
    expect(DEFAULT_QUERY_LIMITS).toEqual({ maxDepth: 12, maxCost: 10_000, maxAliases: 30, maxDirectives: 20, maxTokens: 2_000, maxListLength: 100 });
  });
});
