-- API keys for programmatic access. Only a SHA-256 hash of the secret is stored,
-- and authenticated users cannot read even that.

create table public.api_keys (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null,
  user_id uuid not null,
  name text not null check (char_length(name) between 1 and 100),
  prefix text not null check (char_length(prefix) between 4 and 32),
  key_hash text not null unique check (key_hash ~ '^[0-9a-f]{64}$'),
  last_used_at timestamptz,
  expires_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- A key dies with its owner's membership of the tenant.
  foreign key (tenant_id, user_id) references public.tenant_users (tenant_id, user_id) on delete cascade
);
create index api_keys_tenant_id_user_id_idx on public.api_keys (tenant_id, user_id);
create index api_keys_user_id_idx on public.api_keys (user_id);

create trigger set_updated_at before update on public.api_keys
  for each row execute function private.set_updated_at();

revoke all on public.api_keys from anon, authenticated;
grant all on public.api_keys to service_role;
grant select (id, tenant_id, user_id, name, prefix, last_used_at, expires_at, revoked_at, created_at, updated_at)
  on public.api_keys to authenticated;
grant insert (tenant_id, user_id, name, prefix, key_hash, expires_at) on public.api_keys to authenticated;
grant update (name, revoked_at) on public.api_keys to authenticated;
grant delete on public.api_keys to authenticated;
alter table public.api_keys enable row level security;

create policy "Users can read their own API keys"
  on public.api_keys for select to authenticated
  using (user_id = (select auth.uid()) and tenant_id = (select private.active_tenant_id()));
create policy "Members can create API keys for themselves"
  on public.api_keys for insert to authenticated
  with check (
    user_id = (select auth.uid()) and tenant_id = (select private.active_tenant_id())
    and (select private.active_tenant_role()) >= 'MEMBER'
  );
create policy "Users can rename and revoke their own API keys"
  on public.api_keys for update to authenticated
  using (user_id = (select auth.uid()) and tenant_id = (select private.active_tenant_id()))
  with check (user_id = (select auth.uid()) and tenant_id = (select private.active_tenant_id()));
create policy "Users can delete their own API keys"
  on public.api_keys for delete to authenticated
  using (user_id = (select auth.uid()) and tenant_id = (select private.active_tenant_id()));

create or replace function private.authenticate_api_key(p_key_hash text)
returns table (key_id uuid, user_id uuid, tenant_id uuid)
language sql volatile security definer
set search_path = ''
as $$
  update public.api_keys k
  set last_used_at = now()
  where k.key_hash = p_key_hash
    and k.revoked_at is null
    and (k.expires_at is null or k.expires_at > now())
  returning k.id, k.user_id, k.tenant_id
$$;
comment on function private.authenticate_api_key(text) is
  'Resolves a live key''s hash to its user and tenant and records its use; no rows for unknown, revoked or expired keys.';
revoke all on function private.authenticate_api_key(text) from public;
grant execute on function private.authenticate_api_key(text) to anon, service_role;
