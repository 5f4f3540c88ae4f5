import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Database } from '../db/database.ts';

/** A user of the embedded database, as `npm run token` needs to sign for them. */
export interface DevIdentity {
  id: string;
  email: string;
  defaultTenantId: string | null;
  tenants: { id: string; slug: string; role: string }[];
}

const FILE_NAME = 'dev-identities.json';

/** Every user with an email, their default tenant and memberships; read as the owner. */
export async function listDevIdentities(owner: Database): Promise<DevIdentity[]> {
  const { rows } = await owner.query<DevIdentity>(`
    select u.id, u.email, u.raw_app_meta_data ->> 'tenant_id' as "defaultTenantId",
           coalesce((select json_agg(json_build_object('id', t.id, 'slug', t.slug, 'role', tu.role) order by t.slug)
                     from public.tenant_users tu join public.tenants t on t.id = tu.tenant_id
                     where tu.user_id = u.id), '[]') as tenants
    from auth.users u where u.email is not null order by u.email`);
  return rows;
}

/**
 * Written by the embedded server at start (it alone may open the database), so the token
 * command can sign for any user without opening the database the server holds.
 */
export async function writeDevIdentities(owner: Database, dataDir: string): Promise<DevIdentity[]> {
  const rows = await listDevIdentities(owner);
  await writeFile(path.join(dataDir, FILE_NAME), `${JSON.stringify(rows, null, 2)}\n`, { mode: 0o600 });
  return rows;
}

export async function readDevIdentities(dataDir: string): Promise<DevIdentity[]> {
  return JSON.parse(await readFile(path.join(dataDir, FILE_NAME), 'utf8')) as DevIdentity[];
}
