import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { exportJWK, exportSPKI, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTokenVerifier, type TokenVerifier } from '../../src/auth/verifier.ts';
import { createGateway } from '../../src/server/yoga.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { type GraphQLResponse, TEST_ISSUER, TEST_SECRET, tokenFor } from '../support/gateway.ts';
import { addMember, createUser, createWorld, insertRow, type World, type WorldUser } from '../support/world.ts';

let db: TestDatabase;
let world: World;
// The HS256 gateway's clock, in epoch seconds: frozen, and moved by hand where a test needs it.
let now = Math.floor(Date.now() / 1000);
let call: ReturnType<typeof gatewayWith>;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
  call = gatewayWith(
    createTokenVerifier({ hsSecret: TEST_SECRET, issuer: TEST_ISSUER, audience: 'authenticated', currentDate: () => new Date(now * 1000) }),
  );
});
afterAll(() => db?.close());

const WHO = '{ viewer { user { id } tenant { id } role } }';
type Who = { viewer: { user: { id: string }; tenant: { id: string } | null; role: string | null } | null };

/** The gateway with the given verifier, called over yoga.fetch with raw headers. */
function gatewayWith(verifyToken: TokenVerifier) {
  const yoga = createGateway({ db: db.gateway, prisma: db.prisma, verifyToken });
  return async <Data = Who>(headers: Record<string, string>, query = WHO): Promise<GraphQLResponse<Data>> => {
    const response = await yoga.fetch('http://gateway.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query }),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as GraphQLResponse<Data>['body'] };
  };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Claims as Supabase Auth issues them, valid on the frozen clock unless overridden. */
function claims(user: WorldUser, extra: Record<string, unknown> = {}) {
  return { sub: user.id, role: 'authenticated', aud: 'authenticated', iss: TEST_ISSUER, iat: now, exp: now + 3600, ...extra };
}
function hs256(payload: Record<string, unknown>, secret = TEST_SECRET) {
  return new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(secret));
}

async function expectUnauthenticated(response: Promise<GraphQLResponse>) {
  const { status, body } = await response;
  expect({ status, code: body.errors?.[0]?.extensions?.code }).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
  expect(body).not.toHaveProperty('data');
  return body.errors![0]!.message;
}

describe('bearer tokens signed with the shared secret', () => {
  it('a valid token runs as its user; no credentials at all is anon', async () => {
    const ok = await call(bearer(await hs256(claims(world.a.member, { app_metadata: { tenant_id: world.a.id } }))));
    expect(ok.status).toBe(200);
    expect(ok.body.data!.viewer).toEqual({
      user: { id: encodeGlobalID('User', world.a.member.id) },
      tenant: { id: encodeGlobalID('Tenant', world.a.id) },
      role: 'MEMBER',
    });
    expect(await call({})).toMatchObject({ status: 200, body: { data: { viewer: null } } });
  });

  it('refuses malformed tokens', async () => {
    const valid = await hs256(claims(world.a.member));
    const [header, payload, signature] = valid.split('.');
    for (const token of ['garbage', `${header}.${payload}`, '!!!.@@@.###', `${header}.%%%.${signature}`, `${valid}.extra`, `${b64([1])}.${payload}.${signature}`]) {
      await expectUnauthenticated(call(bearer(token)));
    }
  });

  it('refuses a bad signature, alg none and a token without sub', async () => {
    expect(await expectUnauthenticated(call(bearer(await hs256(claims(world.a.member), 'another-secret-of-at-least-32-characters!'))))).toBe(
      'token signature is invalid',
    );
    const [, payload, signature] = (await hs256(claims(world.a.member))).split('.');
    for (const alg of ['none', 'None', 'NONE']) {
      await expectUnauthenticated(call(bearer(`${b64({ alg, typ: 'JWT' })}.${payload}.`)));
      await expectUnauthenticated(call(bearer(`${b64({ alg, typ: 'JWT' })}.${payload}.${signature}`)));
    }
    await expectUnauthenticated(call(bearer(await hs256(claims(world.a.member, { sub: undefined })))));
  });

  it('refuses expired and not-yet-valid tokens, within 5 s of tolerance', async () => {
    const frozen = now;
    try {
      const token = await hs256(claims(world.a.member, { exp: frozen + 60 }));
      expect((await call(bearer(token))).status).toBe(200);
      now = frozen + 63;
      expect((await call(bearer(token))).status).toBe(200);
      now = frozen + 66;
      expect(await expectUnauthenticated(call(bearer(token)))).toBe('token has expired');

      now = frozen;
      const early = await hs256(claims(world.a.member, { nbf: frozen + 60 }));
      expect(await expectUnauthenticated(call(bearer(early)))).toBe('token is not yet valid');
      now = frozen + 60;
      expect((await call(bearer(early))).status).toBe(200);
    } finally {
      now = frozen;
    }
  });

  it('refuses a wrong issuer or audience, and roles other than the API roles', async () => {
    await expectUnauthenticated(call(bearer(await hs256(claims(world.a.member, { iss: 'https://evil.test/auth/v1' })))));
    await expectUnauthenticated(call(bearer(await hs256(claims(world.a.member, { iss: undefined })))));
    await expectUnauthenticated(call(bearer(await hs256(claims(world.a.member, { aud: 'other' })))));
    for (const role of ['postgres', 'supabase_admin', 'authenticator', '', 42]) {
      await expectUnauthenticated(call(bearer(await hs256(claims(world.a.member, { role })))));
    }
    // service_role is Supabase's trusted backend role: accepted, and no viewer.
    expect(await call(bearer(await hs256(claims(world.a.member, { role: 'service_role' }))))).toMatchObject({
      status: 200,
      body: { data: { viewer: null } },
    });
  });

  it('refuses other schemes and two credentials at once', async () => {
    const token = await hs256(claims(world.a.member));
    await expectUnauthenticated(call({ authorization: `Basic ${Buffer.from('user:pass').toString('base64')}` }));
    await expectUnauthenticated(call({ authorization: 'Bearer' }));
    await expectUnauthenticated(call({ authorization: `Bearer ${token} ${token}` }));
    await expectUnauthenticated(call({ authorization: `Bearer ${token}`, 'x-api-key': `gwk_${'A'.repeat(43)}` }));
  });
});

describe('X-Tenant-Id', () => {
  const QUERY = '{ viewer { tenant { id } role } projects { totalCount edges { node { name } } } }';
  type Result = { viewer: { tenant: { id: string } | null; role: string | null }; projects: { totalCount: number; edges: { node: { name: string } }[] } };

  it('switches a member of two tenants to the other one', async () => {
    const user = await createUser(db.owner, 'two-tenants');
    await addMember(db.owner, world.a.id, user.id, 'MEMBER');
    await addMember(db.owner, world.b.id, user.id, 'VIEWER');
    await db.owner.transaction((tx) => insertRow(tx, 'projects', { tenant_id: world.b.id, user_id: world.b.owner.id, name: 'Only in b' }));
    const token = await tokenFor(user, world.a.id);
    const inA = await call<Result>(bearer(token), QUERY);
    expect(inA.body.data!.viewer).toEqual({ tenant: { id: encodeGlobalID('Tenant', world.a.id) }, role: 'MEMBER' });
    const inB = await call<Result>({ ...bearer(token), 'x-tenant-id': world.b.id.toUpperCase() }, QUERY);
    expect(inB.body.data!.viewer).toEqual({ tenant: { id: encodeGlobalID('Tenant', world.b.id) }, role: 'VIEWER' });
    expect(inB.body.data!.projects.edges.map((e) => e.node.name)).toContain('Only in b');
  });

  it('naming a tenant the caller is not a member of yields no tenant data', async () => {
    await db.owner.transaction((tx) => insertRow(tx, 'projects', { tenant_id: world.b.id, user_id: world.b.owner.id, name: 'Secret' }));
    const forged = await call<Result>({ ...bearer(await tokenFor(world.a.member, world.a.id)), 'x-tenant-id': world.b.id }, QUERY);
    expect(forged.status).toBe(200);
    expect(forged.body.data).toEqual({ viewer: { tenant: null, role: null }, projects: { totalCount: 0, edges: [] } });
  });

  it('refuses a header that is not a UUID (400) and one without credentials (401)', async () => {
    const token = await tokenFor(world.a.member, world.a.id);
    for (const header of ['b', `${world.b.id}' or 1=1 --`, 'not-a-uuid-at-all-000000000000000000']) {
      const response = await call({ ...bearer(token), 'x-tenant-id': header });
      expect({ status: response.status, code: response.body.errors?.[0]?.extensions?.code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    }
    await expectUnauthenticated(call({ 'x-tenant-id': world.a.id }));
  });
});

describe('asymmetric tokens from a JWKS', () => {
  let server: Server;
  let fetches = 0;
  let published: JWK[] = [];
  let jwks: ReturnType<typeof gatewayWith>;
  let mixed: ReturnType<typeof gatewayWith>;
  const keys: Record<string, { privateKey: CryptoKey; publicKey: CryptoKey; alg: string }> = {};

  async function addKey(kid: string, alg: 'ES256' | 'RS256') {
    const pair = await generateKeyPair(alg, { extractable: true });
    keys[kid] = { ...pair, alg };
    return { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' };
  }
  const signWith = (kid: string, payload: Record<string, unknown>, key = keys[kid]!) =>
    new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid, typ: 'JWT' }).sign(key.privateKey);
  // JWKS tokens are checked on the real clock (jose's cache cooldown reads Date.now too).
  const live = (user: WorldUser) => ({ ...claims(user), iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 600 });

  beforeAll(async () => {
    published = [await addKey('es-1', 'ES256'), await addKey('rs-1', 'RS256')];
    server = createServer((_request, response) => {
      fetches++;
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const jwksUrl = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`);
    jwks = gatewayWith(createTokenVerifier({ jwksUrl, issuer: TEST_ISSUER, audience: 'authenticated' }));
    mixed = gatewayWith(createTokenVerifier({ jwksUrl, hsSecret: TEST_SECRET, issuer: TEST_ISSUER, audience: 'authenticated' }));
  });
  afterAll(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('verifies ES256 and RS256 tokens, fetching the key set once', async () => {
    const expected = { user: { id: encodeGlobalID('User', world.b.admin.id) }, tenant: null, role: null };
    for (const kid of ['es-1', 'rs-1']) {
      const response = await jwks(bearer(await signWith(kid, live(world.b.admin))));
      expect(response).toMatchObject({ status: 200, body: { data: { viewer: expected } } });
    }
    expect(fetches).toBe(1);
  });

  it('refuses HS256 where only asymmetric keys are configured, and HMAC keyed with a public key', async () => {
    expect(await expectUnauthenticated(jwks(bearer(await hs256(live(world.b.admin)))))).toMatch(/HS256 is not accepted/);
    const pem = await exportSPKI(keys['rs-1']!.publicKey);
    const confused = await new SignJWT(live(world.b.admin)).setProtectedHeader({ alg: 'HS256', kid: 'rs-1' }).sign(new TextEncoder().encode(pem));
    await expectUnauthenticated(mixed(bearer(confused)));
    await expectUnauthenticated(jwks(bearer(confused)));
  });

  it('refuses a token signed by another key under a published kid', async () => {
    const impostor = await generateKeyPair('ES256');
    const forged = await signWith('es-1', live(world.b.admin), { ...impostor, alg: 'ES256' });
    expect(await expectUnauthenticated(jwks(bearer(forged)))).toBe('token signature is invalid');
  });

  it('re-fetches the key set for an unknown kid once the cooldown is over, then accepts rotated keys', async () => {
    const before = fetches;
    published = [await addKey('es-2', 'ES256')];
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      // Within jose's 30 s cooldown an unknown kid is refused without hammering the endpoint.
      expect(await expectUnauthenticated(jwks(bearer(await signWith('es-2', live(world.b.admin)))))).toBe('token was signed by an unknown key');
      expect(fetches).toBe(before);
      vi.setSystemTime(Date.now() + 31_000);
      const rotated = await jwks(bearer(await signWith('es-2', live(world.b.admin))));
      expect(rotated.status).toBe(200);
      expect(fetches).toBe(before + 1);
      // The retired key is gone from the set now.
      await expectUnauthenticated(jwks(bearer(await signWith('es-1', live(world.b.admin)))));
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('a key set that cannot be fetched', () => {
  // What the endpoint answers: an error status, something that is not JSON, JSON that is not a key set.
  const answers: Record<string, [number, string]> = {
    '/down': [500, 'internal error'],
    '/html': [200, '<html>maintenance</html>'],
    '/not-a-key-set': [200, '{"keys": "none"}'],
  };
  // '/flaky' serves this key set until it is told to fail.
  let flaky: { keys: JWK[]; failing: boolean; fetches: number } = { keys: [], failing: false, fetches: 0 };
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url === '/flaky') {
        flaky.fetches++;
        if (flaky.failing) return void response.writeHead(503).end('upstream down');
        return void response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: flaky.keys }));
      }
      const [status, body] = answers[request.url ?? ''] ?? [404, 'not found'];
      response.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('answers 503 AUTH_UNAVAILABLE, not 401, so clients retry instead of discarding a valid token', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const token = await new SignJWT({ ...claims(world.a.member), iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 600 })
      .setProtectedHeader({ alg: 'ES256', kid: 'k-1' })
      .sign(privateKey);
    // A port nothing listens on: the server above, closed, is the one way to be sure of that.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const unreachable = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/jwks`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    for (const url of [`${base}/down`, `${base}/html`, `${base}/not-a-key-set`, unreachable]) {
      const verify = createTokenVerifier({ jwksUrl: new URL(url), issuer: TEST_ISSUER, audience: 'authenticated' });
      const { status, body } = await gatewayWith(verify)(bearer(token));
      expect({ url, status, code: body.errors?.[0]?.extensions?.code, data: body.data }).toEqual({
        url,
        status: 503,
        code: 'AUTH_UNAVAILABLE',
        data: undefined,
      });
    }
  });

  it('keeps verifying with the last good key set through an outage, retrying the endpoint every 30 s, for up to an hour', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    flaky = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k-1', alg: 'ES256', use: 'sig' }], failing: false, fetches: 0 };
    const verify = createTokenVerifier({ jwksUrl: new URL(`${base}/flaky`), issuer: TEST_ISSUER, audience: 'authenticated' });
    const request = async (kid = 'k-1') => {
      const at = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({ ...claims(world.a.member), iat: at, exp: at + 600 }).setProtectedHeader({ alg: 'ES256', kid }).sign(pair.privateKey);
      const { status, body } = await gatewayWith(verify)(bearer(token));
      return { status, code: body.errors?.[0]?.extensions?.code ?? null, fetches: flaky.fetches };
    };
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      expect(await request()).toEqual({ status: 200, code: null, fetches: 1 });
      flaky.failing = true;
      vi.setSystemTime(Date.now() + 11 * 60_000); // past jose's 10-minute cache: it must fetch again, and that fails
      expect(await request()).toEqual({ status: 200, code: null, fetches: 2 });
      expect(await request()).toEqual({ status: 200, code: null, fetches: 2 }); // no retry within 30 s
      // A kid the last good set does not have cannot be vouched for: refused, not guessed at.
      expect(await request('k-unknown')).toEqual({ status: 401, code: 'UNAUTHENTICATED', fetches: 2 });
      vi.setSystemTime(Date.now() + 31_000);
      expect(await request()).toEqual({ status: 200, code: null, fetches: 3 });
      vi.setSystemTime(Date.now() + 50 * 60_000); // more than an hour since the last good fetch
      expect(await request()).toEqual({ status: 503, code: 'AUTH_UNAVAILABLE', fetches: 4 });
      flaky.failing = false;
      vi.setSystemTime(Date.now() + 31_000);
      expect(await request()).toEqual({ status: 200, code: null, fetches: 5 });
    } finally {
      vi.useRealTimers();
    }
  });
});
