-- API keys: revocation is final, keys are made by people and not by keys, and a tenant's
-- OWNERs and ADMINs can see and revoke every key of their tenant (key management is their
-- duty; the secret's hash stays unreadable to everyone but the lookup function).

revoke update on public.api_keys from authenticated;
grant update (name) on public.api_keys to authenticated;

create or replace function private.keep_revocation_final() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if old.revoked_at is not null and new.revoked_at is distinct from old.revoked_at then
    raise exception 'API key % was revoked at % and stays revoked', old.id, old.revoked_at using errcode = '42501';
  end if;
  return new;
end;
$$;
comment on function private.keep_revocation_final() is 'Refuses, for every role, any change to a revoked key''s revoked_at.';
create trigger keep_revocation_final before update on public.api_keys
  for each row execute function private.keep_revocation_final();

create or replace function private.caller_uses_api_key() returns boolean
language sql stable
set search_path = ''
as $$
  select coalesce(auth.jwt() -> 'amr', '[]'::jsonb) @> '[{"method": "api_key"}]'::jsonb
$$;
comment on function private.caller_uses_api_key() is
  'True when the request was authenticated with an API key (the gateway puts amr [{method: api_key}] in its claims).';
revoke all on function private.caller_uses_api_key() from public;
grant execute on function private.caller_uses_api_key() to authenticated, service_role;

drop policy "Members can create API keys for themselves" on public.api_keys;
create policy "Members can create API keys for themselves, but not with a key"
  on public.api_keys for insert to authenticated
  with check (
    user_id = (select auth.uid()) and tenant_id = (select private.active_tenant_id())
    and (select private.active_tenant_role()) >= 'MEMBER'
    and not (select private.caller_uses_api_key())
  );
drop policy "Users can rename and revoke their own API keys" on public.api_keys;
create policy "Users can rename their own API keys"
  on public.api_keys for update to authenticated
  using (user_id = (select auth.uid()) and tenant_id = (select private.active_tenant_id()))
  with check (user_id = (select auth.uid()) and tenant_id = (select private.active_tenant_id()));
create policy "Owners and admins can read their tenant's API keys"
  on public.api_keys for select to authenticated
  using (tenant_id = (select private.active_tenant_id()) and (select private.active_tenant_role()) >= 'ADMIN');

-- Returns no hash: a security definer function handing back the whole row would leak it.
create or replace function public.revoke_api_key(p_key_id uuid)
returns table (id uuid, revoked_at timestamptz)
language plpgsql security definer
set search_path = ''
as $$
begin
  return query
  update public.api_keys k set revoked_at = coalesce(k.revoked_at, now())
  where k.id = p_key_id and k.tenant_id = private.active_tenant_id()
    and (k.user_id = auth.uid() or private.active_tenant_role() >= 'ADMIN')
  returning k.id, k.revoked_at;
  if not found then
    raise exception 'no API key % of yours, or of your tenant as ADMIN and up', p_key_id using errcode = 'P0002';
  end if;
end;
$$;
comment on function public.revoke_api_key(uuid) is
  'Revokes a key of the caller, or any key of the active tenant as ADMIN and up; revoking again keeps the first time.';
revoke all on function public.revoke_api_key(uuid) from public, anon;
grant execute on function public.revoke_api_key(uuid) to authenticated, service_role;
