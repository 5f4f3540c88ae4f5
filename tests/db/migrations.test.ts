import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint, migrate, MigrationError, readMigrations, type MigrationFile } from '../../src/db/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

let db: TestDatabase;
let files: MigrationFile[];

beforeAll(async () => {
  db = await createTestDatabase();
  files = await readMigrations();
});
afterAll(() => db?.close());

describe('migrations', () => {
  it('applied from empty, recorded in the Supabase CLI history table in version order', async () => {
    const { rows } = await db.owner.query<{ version: string; name: string }>(
      'select version, name from supabase_migrations.schema_migrations order by version',
    );
    expect(rows).toEqual(files.map(({ version, name }) => ({ version, name })));
    expect(files.length).toBeGreaterThan(10);
  });

  it('follows the Supabase CLI layout: config.toml seeds from the same seed.sql the gateway loads', async () => {
    const config = await readFile(new URL('../../supabase/config.toml', import.meta.url), 'utf8');
    expect(config).toMatch(/^\[db\.seed\]\nenabled = true\nsql_paths = \["\.\/seed\.sql"\]$/m);
    expect(config).toMatch(/^major_version = 15$/m);
    await expect(readFile(new URL('../../supabase/seed.sql', import.meta.url), 'utf8')).resolves.toContain('insert into');
  });

  it('a second run is a no-op', async () => {
    const report = await migrate(db.owner, files);
    expect(report).toEqual({ bootstrapped: false, applied: [], alreadyApplied: files.length });
  });

  it('refuses to continue when an applied file has changed', async () => {
    const edited = files.map((file, i) => (i === 3 ? { ...file, sql: `${file.sql}\ncreate table public.sneaky (id int);` } : file));
    const run = migrate(db.owner, edited);
    await expect(run).rejects.toBeInstanceOf(MigrationError);
    await expect(run).rejects.toMatchObject({ code: 'MIGRATION_CHANGED' });
    const { rows } = await db.owner.query("select to_regclass('public.sneaky') as t");
    expect(rows[0]!.t).toBeNull();
  });

  it('a failing migration leaves nothing behind and names itself', async () => {
    const broken: MigrationFile = {
      version: '29991231235959',
      name: 'broken',
      sql: 'create table public.half_done (id int); select 1 / 0;',
    };
    const run = migrate(db.owner, [...files, broken]);
    await expect(run).rejects.toMatchObject({ code: 'MIGRATION_FAILED', message: expect.stringContaining('29991231235959_broken') });
    const { rows } = await db.owner.query(
      "select to_regclass('public.half_done') as t, (select count(*) from supabase_migrations.schema_migrations where version = '29991231235959')::int as n",
    );
    expect(rows[0]).toEqual({ t: null, n: 0 });
  });

  it('tolerates whitespace and statement splitting, as the Supabase CLI records files', () => {
    expect(fingerprint(['create table a (id int);\n', '  create table b (id int)'])).toBe(
      fingerprint(['create table a (id int);\ncreate table b (id int);']),
    );
    expect(fingerprint(['create table a (id int);'])).not.toBe(fingerprint(['create table a (id bigint);']));
  });

  it('every table in public has row level security enabled', async () => {
    const { rows } = await db.owner.query<{ relname: string }>(
      "select relname from pg_class where relnamespace = 'public'::regnamespace and relkind = 'r' and not relrowsecurity",
    );
    expect(rows).toEqual([]);
  });

  it('every foreign key and every column a policy filters on is indexed', async () => {
    // Covered when an index leads with the key's first column: every composite key here starts
    // with a unique id (project, conversation, subscription), so that column alone finds the rows.
    const { rows } = await db.owner.query<{ fk: string }>(`
      select c.conrelid::regclass || '(' || array_to_string(array(select attname from pg_attribute
             where attrelid = c.conrelid and attnum = any (c.conkey)), ',') || ')' as fk
      from pg_constraint c
      where c.contype = 'f' and c.connamespace = 'public'::regnamespace
        and not exists (
          select 1 from pg_index i where i.indrelid = c.conrelid and (i.indkey::int2[])[0] = c.conkey[1]
        )`);
    expect(rows).toEqual([]);
    const policyColumns = ['tenant_id', 'user_id', 'author_id', 'conversation_id'];
    const { rows: unindexed } = await db.owner.query<{ col: string }>(
      `select c.relname || '.' || a.attname as col
       from pg_class c join pg_attribute a on a.attrelid = c.oid
       where c.relnamespace = 'public'::regnamespace and c.relkind = 'r' and a.attname = any ($1)
         and not exists (select 1 from pg_index i where i.indrelid = c.oid and (i.indkey::int2[])[0] = a.attnum)`,
      [policyColumns],
    );
    expect(unindexed).toEqual([]);
  });
});
