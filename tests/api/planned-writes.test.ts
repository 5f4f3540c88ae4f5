import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createTestGateway, tokenFor } from '../support/gateway.ts';
import { createWorld, type World, type WorldUser } from '../support/world.ts';

// Differential: every mutation runs through the write planner (one UPDATE … RETURNING, in one
// round trip on a server) and field by field (plannedWrites: false), each from the same starting
// row; the responses and the rows they leave must be identical.
let db: TestDatabase;
let world: World;
let planned: ReturnType<typeof createTestGateway>;
let resolved: ReturnType<typeof createTestGateway>;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
  planned = createTestGateway(db);
  resolved = createTestGateway(db, { plannedWrites: false });
});
afterAll(() => db?.close());

const FULL = `mutation($input: UpdateProfileInput!) {
  updateProfile(input: $input) {
    __typename
    ... on MutationUpdateProfileSuccess { user { __typename id email name avatarUrl role isActive lastLoginAt createdAt } }
    ... on MutationError { code message }
  }
}`;

const isPlannedUpdate = (sql: string) => /^with t\d+ as \(update /.test(sql);

async function rowOf(userId: string) {
  const { rows } = await db.owner.query<{ name: string | null; avatar_url: string | null }>(
    'select name, avatar_url from public.users where id = $1',
    [userId],
  );
  return rows[0];
}

async function reset(userId: string) {
  await db.owner.query(`update public.users set name = 'Before', avatar_url = null where id = $1`, [userId]);
}

/** Runs the mutation both ways from the same row; returns the response and whether the planner wrote. */
async function both(user: WorldUser | undefined, query: string, variables?: Record<string, unknown>, target = user) {
  const token = user ? await tokenFor(user, world.a.id) : undefined;
  if (target) await reset(target.id);
  db.statements.length = 0;
  const viaPlan = await planned.graphql(query, { token, variables });
  const statements = [...db.statements];
  const plannedStatements = statements.filter(isPlannedUpdate).length;
  const prismaUpdates = db.statements.filter((sql) => /^UPDATE "public"."users"/.test(sql)).length;
  const rowViaPlan = target && (await rowOf(target.id));
  if (target) await reset(target.id);
  const viaResolvers = await resolved.graphql(query, { token, variables });
  const rowViaResolvers = target && (await rowOf(target.id));
  expect(viaPlan.body).toEqual(viaResolvers.body);
  expect(viaPlan.status).toBe(viaResolvers.status);
  expect(rowViaPlan).toEqual(rowViaResolvers);
  return { body: viaPlan.body, row: rowViaPlan, statements, planned: plannedStatements > 0 && prismaUpdates === 0, attempted: plannedStatements > 0 };
}

describe('planned updates answer as the resolvers do', () => {
  it('writes the row in one statement and builds the payload from what it returned', async () => {
    const { body, planned: wasPlanned, row, statements } = await both(world.a.owner, FULL, { input: { name: 'Ada', avatarUrl: 'https://example.test/a.png' } });
    expect(wasPlanned).toBe(true);
    // On a server BEGIN, the claims, the update and COMMIT travel together: no statement of its own.
    if (db.kind === 'postgres') expect(statements).toHaveLength(1);
    expect(row).toEqual({ name: 'Ada', avatar_url: 'https://example.test/a.png' });
    expect(body.data).toMatchObject({ updateProfile: { __typename: 'MutationUpdateProfileSuccess', user: { name: 'Ada', email: world.a.owner.email } } });
  });

  it.each([
    ['quotes and a semicolon', `O'Brien'); drop table public.users; --`],
    ['backslashes', 'back\\slash \\\' and \\\\ two'],
    ['dollar quotes', '$$ $1 $tag$ :name'],
    ['unicode', 'Zoë 测试 🙂'],
    ['padding the schema trims', '   spaced out   '],
  ])('keeps %s exactly as the validated value', async (_label, name) => {
    const { planned: wasPlanned, row } = await both(world.a.member, FULL, { input: { name } });
    expect(wasPlanned).toBe(true);
    expect(row!.name).toBe(name.trim());
  });

  it('declines text a script cannot carry (NUL), and answers as the resolver does', async () => {
    const { planned: wasPlanned } = await both(world.a.member, FULL, { input: { name: 'nul\u0000byte' } });
    expect(wasPlanned).toBe(false);
  });

  it.each([
    ['an empty name', { name: '' }],
    ['a name of 201 characters', { name: 'x'.repeat(201) }],
    ['a javascript: avatar', { avatarUrl: 'javascript:alert(1)' }],
    ['nothing to change', {}],
    ['only nulls', { name: null, avatarUrl: null }],
  ])('leaves %s to the resolver, which refuses it', async (_label, input) => {
    const { planned: wasPlanned, attempted, row } = await both(world.a.viewer, FULL, { input });
    expect(attempted).toBe(false);
    expect(wasPlanned).toBe(false);
    expect(row!.name).toBe('Before');
  });

  it('sets one field and leaves the other, with null meaning "unchanged" as in the resolver', async () => {
    await db.owner.query(`update public.users set avatar_url = 'https://example.test/kept.png' where id = $1`, [world.a.admin.id]);
    const token = await tokenFor(world.a.admin, world.a.id);
    const response = await planned.graphql(FULL, { token, variables: { input: { name: 'Only name', avatarUrl: null } } });
    expect(response.body.errors).toBeUndefined();
    expect(await rowOf(world.a.admin.id)).toEqual({ name: 'Only name', avatar_url: 'https://example.test/kept.png' });
  });

  it('answers aliases, inline arguments and typename-only selections', async () => {
    for (const query of [
      `mutation { me: updateProfile(input: { name: "Aliased" }) { kind: __typename ... on MutationUpdateProfileSuccess { who: user { key: id n: name } } } }`,
      `mutation { updateProfile(input: { name: "Typename" }) { __typename } }`,
      `mutation Named { updateProfile(input: { name: "Fragment" }) { ...Payload } } fragment Payload on MutationUpdateProfileSuccess { user { ...U } } fragment U on User { name }`,
    ]) {
      const { planned: wasPlanned } = await both(world.b.owner, query);
      expect(wasPlanned, query).toBe(true);
    }
  });

  it('leaves operations it does not plan to the resolvers', async () => {
    for (const query of [
      // Two mutations: each needs its own savepoint.
      `mutation { a: updateProfile(input: { name: "One" }) { __typename } b: updateProfile(input: { name: "Two" }) { __typename } }`,
      // A skipped root field: nothing to write.
      `mutation($skip: Boolean!) { updateProfile(input: { name: "Maybe" }) @skip(if: $skip) { __typename } }`,
    ]) {
      const { planned: wasPlanned } = await both(world.b.member, query, { skip: true });
      expect(wasPlanned, query).toBe(false);
    }
  });

  it('refuses anonymous callers before any write', async () => {
    const { body, attempted } = await both(undefined, FULL, { input: { name: 'Nobody' } }, world.a.owner);
    expect(attempted).toBe(false);
    expect(body.data).toMatchObject({ updateProfile: { __typename: 'MutationError', code: 'UNAUTHENTICATED' } });
  });

  it('finds no row for a caller without one, then lets the resolver say NOT_FOUND', async () => {
    const ghost = { id: randomUUID(), email: 'ghost@example.test' };
    const { body, attempted, planned: wasPlanned } = await both(ghost, FULL, { input: { name: 'Ghost' } }, undefined);
    expect(attempted).toBe(true);
    expect(wasPlanned).toBe(false);
    expect(body.data).toMatchObject({ updateProfile: { __typename: 'MutationError', code: 'NOT_FOUND' } });
  });

  it("undoes a write the database refuses and answers with the resolver's error", async () => {
    // Sequences ignore rollbacks: the count of refused attempts survives them.
    await db.owner.exec(`
      create sequence public.refused_attempts;
      grant usage on sequence public.refused_attempts to authenticated;
      create function public.refuse_test_name() returns trigger language plpgsql as $$
      begin
        if new.name = 'Refused' then
          perform nextval('public.refused_attempts');
          raise exception 'that name is refused' using errcode = 'check_violation';
        end if;
        return new;
      end $$;
      create trigger refuse_test_name before update on public.users for each row execute function public.refuse_test_name();`);
    try {
      const { body, row } = await both(world.b.viewer, FULL, { input: { name: 'Refused' } });
      // Planned, refused, undone, then run by the resolver (2); field by field only (1).
      const { rows } = await db.owner.query<{ attempts: string }>('select last_value::text as attempts from public.refused_attempts');
      expect(rows[0]!.attempts).toBe('3');
      expect(row!.name).toBe('Before');
      expect(body.data).toMatchObject({ updateProfile: { __typename: 'MutationError' } });
      // The connection the refused script ran on is usable again.
      const { planned: next } = await both(world.b.viewer, FULL, { input: { name: 'Accepted' } });
      expect(next).toBe(true);
    } finally {
      await db.owner.exec('drop trigger refuse_test_name on public.users; drop function public.refuse_test_name(); drop sequence public.refused_attempts;');
    }
  });

  it("writes only the caller's own row", async () => {
    const token = await tokenFor(world.b.owner, world.b.id);
    await reset(world.a.owner.id);
    const response = await planned.graphql(FULL, { token, variables: { input: { name: 'Mine only' } } });
    expect(response.body.data).toMatchObject({ updateProfile: { user: { email: world.b.owner.email } } });
    expect((await rowOf(world.a.owner.id))!.name).toBe('Before');
  });
});
