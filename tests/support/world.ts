import { randomUUID } from 'node:crypto';
import { type RequestClaims, withClaims } from '../../src/session/claims.ts';
import type { Database, Queryable } from '../../src/db/database.ts';

export type TenantRole = 'OWNER' | 'ADMIN' | 'MEMBER' | 'VIEWER';

export interface WorldUser {
  id: string;
  email: string;
}

export interface WorldTenant {
  id: string;
  slug: string;
  owner: WorldUser;
  admin: WorldUser;
  member: WorldUser;
  viewer: WorldUser;
}

/**
 * Two tenants with a user in every role each, plus an outsider who belongs to no tenant.
 * Built as the database owner, so the fixtures themselves never depend on the policies under test.
 */
export interface World {
  a: WorldTenant;
  b: WorldTenant;
  outsider: WorldUser;
}

/** A signed-up user; their email is confirmed unless `confirmed: false`, as with Supabase Auth's confirmations on. */
export async function createUser(owner: Database, label: string, options: { confirmed?: boolean } = {}): Promise<WorldUser> {
  const user = { id: randomUUID(), email: `${label}.${randomUUID().slice(0, 8)}@example.test` };
  await owner.query(
    `insert into auth.users (id, email, raw_user_meta_data, email_confirmed_at)
     values ($1, $2, jsonb_build_object('name', $3::text), case when $4 then now() end)`,
    [user.id, user.email, label, options.confirmed ?? true],
  );
  return user;
}

export async function addMember(owner: Database, tenantId: string, userId: string, role: TenantRole): Promise<void> {
  await owner.query('insert into public.tenant_users (tenant_id, user_id, role) values ($1, $2, $3)', [
    tenantId,
    userId,
    role,
  ]);
}

async function createTenant(owner: Database, label: string): Promise<WorldTenant> {
  const slug = `${label}-${randomUUID().slice(0, 8)}`;
  const { rows } = await owner.query<{ id: string }>(
    'insert into public.tenants (name, slug, max_users, max_projects, max_storage_bytes) values ($1, $2, 50, 500, 1099511627776 * 100) returning id',
    [`Tenant ${label}`, slug],
  );
  const id = rows[0]!.id;
  const tenant = { id, slug } as WorldTenant;
  for (const role of ['OWNER', 'ADMIN', 'MEMBER', 'VIEWER'] as const) {
    const user = await createUser(owner, `${label}-${role.toLowerCase()}`);
    await addMember(owner, id, user.id, role);
    tenant[role.toLowerCase() as 'owner' | 'admin' | 'member' | 'viewer'] = user;
  }
  return tenant;
}

export async function createWorld(owner: Database): Promise<World> {
  return {
    a: await createTenant(owner, 'a'),
    b: await createTenant(owner, 'b'),
    outsider: await createUser(owner, 'outsider'),
  };
}

/** Claims as Supabase Auth issues them, with the active tenant in app_metadata. */
export function claimsOf(user: WorldUser, tenantId?: string, extra: Partial<RequestClaims> = {}): RequestClaims {
  return {
    sub: user.id,
    role: 'authenticated',
    aud: 'authenticated',
    email: user.email,
    app_metadata: tenantId ? { tenant_id: tenantId } : {},
    user_metadata: {},
    ...extra,
  };
}

export const ANON: RequestClaims = { role: 'anon' };
export const SERVICE: RequestClaims = { role: 'service_role' };

/** Runs one statement as the caller, through the same path as a gateway request. */
export function as<Row = Record<string, unknown>>(
  db: Database,
  claims: RequestClaims,
  sql: string,
  params: unknown[] = [],
): Promise<Row[]> {
  return withClaims(db, claims, async (tx: Queryable) => (await tx.query<Row>(sql, params)).rows);
}

/** The SQLSTATE of a rejected promise, or 'ok' when it resolved. */
export async function sqlState(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code !== 'string') throw error;
    return code;
  }
}

/** Inserts a row as the owner, building the column list from the object's keys. */
export async function insertRow(
  db: Queryable,
  table: string,
  values: Record<string, unknown>,
): Promise<string> {
  const columns = Object.keys(values);
  const placeholders = columns.map((_, i) => `$${i + 1}`);
  const { rows } = await db.query<{ id: string }>(
    `insert into public.${table} (${columns.join(', ')}) values (${placeholders.join(', ')}) returning id`,
    columns.map((column) => values[column]),
  );
  return rows[0]!.id;
}
