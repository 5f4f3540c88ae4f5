import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createTestGateway } from '../support/gateway.ts';

let db: TestDatabase;
let gateway: ReturnType<typeof createTestGateway>;

beforeAll(async () => {
  db = await createTestDatabase();
  gateway = createTestGateway(db);
});
afterAll(() => db?.close());

describe('HTTP surface', () => {
  it('GET /healthz answers while the process is up', async () => {
    expect((await gateway.yoga.fetch('http://gateway.test/healthz')).status).toBe(200);
  });

  it('GET /readyz answers 200 while the database answers', async () => {
    expect((await gateway.yoga.fetch('http://gateway.test/readyz')).status).toBe(200);
  });

  it('{ viewer { user { id } } } answers null without a token', async () => {
    expect(await gateway.graphql('{ viewer { user { id } } }')).toMatchObject({ status: 200, body: { data: { viewer: null } } });
  });

  it('a malformed query gets a GraphQL error, not a crash', async () => {
    const response = await gateway.yoga.fetch('http://gateway.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query: '{ viewer { ' }),
    });
    const body = (await response.json()) as { errors: { message: string }[] };
    expect(response.status).toBe(400);
    expect(body.errors[0]!.message).toContain('Syntax Error');
  });

  it('GET /graphql serves GraphiQL to a browser', async () => {
    const response = await gateway.yoga.fetch('http://gateway.test/graphql', { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('GraphiQL');
  });
});

describe('the gateway login', () => {
  // What the login underneath may do is tests/security/login.test.ts's subject.
  it('acts as authenticator, which is neither superuser nor BYPASSRLS', async () => {
    const { rows } = await db.gateway.query<{ rolsuper: boolean; rolbypassrls: boolean; name: string }>(
      'select rolname as name, rolsuper, rolbypassrls from pg_roles where rolname = session_user',
    );
    expect(rows).toEqual([{ name: 'authenticator', rolsuper: false, rolbypassrls: false }]);
  });

  it('cannot switch to a role outside anon, authenticated and service_role', async () => {
    const attempt = db.gateway.transaction((tx) => tx.query("select set_config('role', 'postgres', true)"));
    await expect(attempt).rejects.toMatchObject({ code: '42501' });
  });
});
