-- Tenancy: user profiles, tenants, memberships, tenant settings, and the
-- helpers every other table's policies are written with.

create table public.users (
  id uuid primary key references auth.users (id) on delete cascade,
  email text unique,
  name text check (char_length(name) <= 200),
  avatar_url text check (char_length(avatar_url) <= 2048),
  role public.user_role not null default 'USER',
  is_active boolean not null default true,
  last_login_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.users is
  'Profile of an authenticated identity; id is the auth user''s id. Credentials live in the identity provider.';

create table public.tenants (
  id uuid primary key default gen_random_uuid(),
  name text not null check (char_length(name) between 1 and 200),
  slug text not null unique check (slug ~ '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$'),
  plan public.subscription_plan not null default 'FREE',
  status public.tenant_status not null default 'ACTIVE',
  max_users integer not null default 5 check (max_users > 0),
  max_projects integer not null default 50 check (max_projects > 0),
  max_storage_bytes bigint not null default 1073741824 check (max_storage_bytes > 0),
  max_api_calls_per_month integer not null default 10000 check (max_api_calls_per_month > 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table public.tenant_users (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  user_id uuid not null references public.users (id) on delete cascade,
  role public.tenant_role not null default 'MEMBER',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (tenant_id, user_id)
);
create index tenant_users_user_id_idx on public.tenant_users (user_id);

create table public.tenant_settings (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  key text not null check (key ~ '^[a-z][a-z0-9_.-]{0,99}$'),
  value jsonb not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (tenant_id, key)
);

create trigger set_updated_at before update on public.users
  for each row execute function private.set_updated_at();
create trigger set_updated_at before update on public.tenants
  for each row execute function private.set_updated_at();
create trigger set_updated_at before update on public.tenant_users
  for each row execute function private.set_updated_at();
create trigger set_updated_at before update on public.tenant_settings
  for each row execute function private.set_updated_at();

-- Helpers. security definer so they read tenant_users without recursing into
-- its own policies; stable and argument-free so `(select ...)` runs them once per statement.

create or replace function private.active_tenant_id() returns uuid
language plpgsql stable security definer
set search_path = ''
as $$
declare
  claimed text := coalesce(
    nullif(current_setting('request.jwt.claim.tenant_id', true), ''),
    auth.jwt() -> 'app_metadata' ->> 'tenant_id'
  );
  caller uuid := auth.uid();
begin
  if caller is null or claimed is null
     or claimed !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    return null;
  end if;
  return (
    select tu.tenant_id from public.tenant_users tu
    where tu.tenant_id = claimed::uuid and tu.user_id = caller
  );
end;
$$;
comment on function private.active_tenant_id() is
  'The tenant named by app_metadata.tenant_id (or request.jwt.claim.tenant_id) if the caller is a member of it, else null.';

create or replace function private.active_tenant_role() returns public.tenant_role
language sql stable security definer
set search_path = ''
as $$
  select tu.role from public.tenant_users tu
  where tu.tenant_id = private.active_tenant_id() and tu.user_id = auth.uid()
$$;
comment on function private.active_tenant_role() is
  'The caller''s role in the active tenant, from tenant_users (never from a claim); null for non-members.';

create or replace function private.my_tenant_ids() returns setof uuid
language sql stable security definer
set search_path = ''
as $$
  select tu.tenant_id from public.tenant_users tu where tu.user_id = auth.uid()
$$;
comment on function private.my_tenant_ids() is 'Every tenant the caller belongs to.';

revoke all on function private.active_tenant_id(), private.active_tenant_role(), private.my_tenant_ids() from public;
grant execute on function private.active_tenant_id(), private.active_tenant_role(), private.my_tenant_ids()
  to anon, authenticated, service_role;

-- Privileges: narrow Supabase's defaults to what the policies below allow.
revoke all on public.users, public.tenants, public.tenant_users, public.tenant_settings from anon, authenticated;
grant all on public.users, public.tenants, public.tenant_users, public.tenant_settings to service_role;
grant select on public.users, public.tenants, public.tenant_users, public.tenant_settings to authenticated;
grant update (name, avatar_url) on public.users to authenticated;
grant update (name, slug) on public.tenants to authenticated;
grant delete on public.tenants to authenticated;
grant insert (tenant_id, user_id, role), update (role), delete on public.tenant_users to authenticated;
grant insert (tenant_id, key, value), update (value), delete on public.tenant_settings to authenticated;

alter table public.users enable row level security;
alter table public.tenants enable row level security;
alter table public.tenant_users enable row level security;
alter table public.tenant_settings enable row level security;

create policy "Users can read their own profile and those of people sharing a tenant"
  on public.users for select to authenticated
  using (
    id = (select auth.uid())
    or exists (
      select 1 from public.tenant_users tu
      where tu.user_id = users.id and tu.tenant_id in (select private.my_tenant_ids())
    )
  );
create policy "Users can update their own profile"
  on public.users for update to authenticated
  using (id = (select auth.uid()))
  with check (id = (select auth.uid()));

create policy "Members can read their tenants"
  on public.tenants for select to authenticated
  using (id in (select private.my_tenant_ids()));
create policy "Owners and admins can update the active tenant"
  on public.tenants for update to authenticated
  using (id = (select private.active_tenant_id()) and (select private.active_tenant_role()) >= 'ADMIN')
  with check (id = (select private.active_tenant_id()));
create policy "Owners can delete the active tenant"
  on public.tenants for delete to authenticated
  using (id = (select private.active_tenant_id()) and (select private.active_tenant_role()) = 'OWNER');

create policy "Members can read the memberships of their tenants"
  on public.tenant_users for select to authenticated
  using (tenant_id in (select private.my_tenant_ids()));
create policy "Owners and admins can add members, admins below owner"
  on public.tenant_users for insert to authenticated
  with check (
    tenant_id = (select private.active_tenant_id())
    and (select private.active_tenant_role()) >= 'ADMIN'
    and (role <> 'OWNER' or (select private.active_tenant_role()) = 'OWNER')
  );
create policy "Owners and admins can change roles, admins below owner"
  on public.tenant_users for update to authenticated
  using (
    tenant_id = (select private.active_tenant_id())
    and (select private.active_tenant_role()) >= 'ADMIN'
    and (role <> 'OWNER' or (select private.active_tenant_role()) = 'OWNER')
  )
  with check (
    tenant_id = (select private.active_tenant_id())
    and (role <> 'OWNER' or (select private.active_tenant_role()) = 'OWNER')
  );
create policy "Owners and admins can remove members, and anyone can leave"
  on public.tenant_users for delete to authenticated
  using (
    tenant_id = (select private.active_tenant_id())
    and (
      user_id = (select auth.uid())
      or ((select private.active_tenant_role()) >= 'ADMIN'
          and (role <> 'OWNER' or (select private.active_tenant_role()) = 'OWNER'))
    )
  );

create policy "Members can read their tenant's settings"
  on public.tenant_settings for select to authenticated
  using (tenant_id = (select private.active_tenant_id()));
create policy "Owners and admins can create settings"
  on public.tenant_settings for insert to authenticated
  with check (tenant_id = (select private.active_tenant_id()) and (select private.active_tenant_role()) >= 'ADMIN');
create policy "Owners and admins can change settings"
  on public.tenant_settings for update to authenticated
  using (tenant_id = (select private.active_tenant_id()) and (select private.active_tenant_role()) >= 'ADMIN')
  with check (tenant_id = (select private.active_tenant_id()));
create policy "Owners and admins can delete settings"
  on public.tenant_settings for delete to authenticated
  using (tenant_id = (select private.active_tenant_id()) and (select private.active_tenant_role()) >= 'ADMIN');

-- A tenant always keeps an OWNER, except when the tenant itself is being deleted.
create or replace function private.keep_an_owner() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if old.role <> 'OWNER' or (tg_op = 'UPDATE' and new.role = 'OWNER') then
    return null;
  end if;
  -- Lock the tenant so two owners demoting each other cannot both succeed.
  perform 1 from public.tenants t where t.id = old.tenant_id for update;
  if not found then
    return null;
  end if;
  if not exists (
    select 1 from public.tenant_users tu where tu.tenant_id = old.tenant_id and tu.role = 'OWNER'
  ) then
    raise exception 'a tenant must keep at least one OWNER' using errcode = 'GW002';
  end if;
  return null;
end;
$$;
create trigger keep_an_owner after update or delete on public.tenant_users
  for each row execute function private.keep_an_owner();

create or replace function private.enforce_member_quota() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  quota integer;
begin
  select t.max_users into quota from public.tenants t where t.id = new.tenant_id for update;
  if (select count(*) from public.tenant_users tu where tu.tenant_id = new.tenant_id) >= quota then
    raise exception 'tenant has reached its member quota of %', quota using errcode = 'GW005';
  end if;
  return new;
end;
$$;
create trigger enforce_member_quota before insert on public.tenant_users
  for each row execute function private.enforce_member_quota();

-- Profiles are created with the identity, as Supabase's handle_new_user pattern does.
create or replace function private.create_profile_for_new_user() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  insert into public.users (id, email, name, avatar_url)
  values (
    new.id,
    new.email,
    new.raw_user_meta_data ->> 'name',
    new.raw_user_meta_data ->> 'avatar_url'
  )
  on conflict (id) do nothing;
  return new;
end;
$$;
create trigger create_profile_for_new_user after insert on auth.users
  for each row execute function private.create_profile_for_new_user();

create or replace function private.sync_profile_email() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  update public.users set email = new.email where id = new.id;
  return new;
end;
$$;
create trigger sync_profile_email after update of email on auth.users
  for each row when (new.email is distinct from old.email)
  execute function private.sync_profile_email();

create or replace function public.create_tenant(p_name text, p_slug text)
returns public.tenants
language plpgsql security definer
set search_path = ''
as $$
declare
  caller uuid := auth.uid();
  created public.tenants;
begin
  if caller is null then
    raise exception 'creating a tenant requires a signed-in user' using errcode = '42501';
  end if;
  insert into public.tenants (name, slug) values (p_name, p_slug) returning * into created;
  insert into public.tenant_users (tenant_id, user_id, role) values (created.id, caller, 'OWNER');
  return created;
end;
$$;
comment on function public.create_tenant(text, text) is
  'Creates a tenant on the FREE plan and makes the caller its OWNER; the only way authenticated users create tenants.';
revoke all on function public.create_tenant(text, text) from public, anon;
grant execute on function public.create_tenant(text, text) to authenticated, service_role;
