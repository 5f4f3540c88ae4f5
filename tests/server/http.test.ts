import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertUnprivilegedLogin } from '../../src/db/open.ts';
import { createGateway } from '../../src/server/yoga.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

let db: TestDatabase;
let yoga: ReturnType<typeof createGateway>;

beforeAll(async () => {
  db = await createTestDatabase();
  yoga = createGateway({ db: db.gateway, logging: false });
});
afterAll(() => db?.close());

const graphql = (query: string) =>
  yoga.fetch('http://gateway.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query }),
  });

describe('HTTP surface', () => {
  it('GET /healthz answers while the process is up', async () => {
    const response = await yoga.fetch('http://gateway.test/healthz');
    expect(response.status).toBe(200);
  });

  it('GET /readyz answers 200 while the database answers', async () => {
    const response = await yoga.fetch('http://gateway.test/readyz');
    expect(response.status).toBe(200);
  });

  it('{ viewer { id } } answers null without a token', async () => {
    const response = await graphql('{ viewer { id } }');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { viewer: null } });
  });

  it('a malformed query gets a GraphQL error, not a crash', async () => {
    const response = await graphql('{ viewer { ');
    const body = (await response.json()) as { errors: { message: string }[] };
    expect(response.status).toBe(400);
    expect(body.errors[0]!.message).toContain('Syntax Error');
  });
});

describe('the gateway login', () => {
  it('is neither superuser nor BYPASSRLS, and the owner login is refused as a gateway', async () => {
    const { rows } = await db.gateway.query<{ rolsuper: boolean; rolbypassrls: boolean; name: string }>(
      'select rolname as name, rolsuper, rolbypassrls from pg_roles where rolname = session_user',
    );
    expect(rows).toEqual([{ name: 'authenticator', rolsuper: false, rolbypassrls: false }]);
    await expect(assertUnprivilegedLogin(db.gateway)).resolves.toBeUndefined();
    await expect(assertUnprivilegedLogin(db.owner)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('cannot switch to a role outside anon, authenticated and service_role', async () => {
    const attempt = db.gateway.transaction((tx) => tx.query("select set_config('role', 'postgres', true)"));
    await expect(attempt).rejects.toMatchObject({ code: '42501' });
  });
});
