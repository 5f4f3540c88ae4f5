import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertUnprivilegedLogin, loginPrivileges } from '../../src/db/open.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { sqlState } from '../support/world.ts';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.close());

// PGlite has one login, a superuser; the embedded gateway switches to authenticator on top of it.
describe('the gateway login check is honest (finding 8)', () => {
  it('sees through `set session authorization` to the login underneath', async () => {
    const privileges = await loginPrivileges(db.gateway);
    if (db.kind === 'pglite') {
      expect(privileges).toEqual({ actingAs: 'authenticator', superuser: false, bypassRls: false, canBecome: 'postgres' });
      await expect(assertUnprivilegedLogin(db.gateway)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    } else {
      expect(privileges).toEqual({ actingAs: 'authenticator', superuser: false, bypassRls: false, canBecome: null });
      await expect(assertUnprivilegedLogin(db.gateway)).resolves.toBeUndefined();
    }
    await expect(assertUnprivilegedLogin(db.owner)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('on a server, SQL in a request cannot switch back to a privileged session', async () => {
    const attempt = db.gateway.transaction((tx) => tx.query('set local session authorization postgres'));
    // Embedded, the same statement succeeds: isolation there rests on the gateway sending no client SQL (README).
    expect(await sqlState(attempt)).toBe(db.kind === 'postgres' ? '42501' : 'ok');
  });
});
