-- What ends a realtime subscription is announced on the same channel as the changes it
-- delivers (gateway_changes, 20251124001900_change_feed.sql), so every gateway process learns
-- of it at once, whoever made it:
--   * a membership removed:   {table: 'tenant_users', op: 'DELETE', id, tenant, user, at}
--   * a tenant's status:      {table: 'tenants', op: 'UPDATE', id, tenant, status, previous, at}
--   * a user (de)activated:   {table: 'users', op: 'UPDATE', id, tenant, user, status, previous, at},
--                             once per tenant the user belongs to.
-- Changes of lifecycle rows now also name the row's project, so a subscriber that follows
-- one project is told of a deletion in it too.

create or replace function private.announce_change() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  row_now jsonb := case when tg_op = 'DELETE' then to_jsonb(old) else to_jsonb(new) end;
begin
  perform pg_notify('gateway_changes', json_build_object(
    'table', tg_table_name,
    'op', tg_op,
    'id', row_now ->> 'id',
    'tenant', row_now ->> 'tenant_id',
    'project', row_now ->> 'project_id',
    'status', case when tg_op <> 'DELETE' then to_jsonb(new) ->> 'status' end,
    'previous', case when tg_op <> 'INSERT' then to_jsonb(old) ->> 'status' end,
    'at', to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
  )::text);
  return null;
end;
$$;
comment on function private.announce_change() is
  'Trigger: announces an insert, delete or status change on NOTIFY channel gateway_changes as {table, op, id, tenant, project, status, previous, at}.';

create function private.announce_access_change() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  at text := to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
  membership record;
begin
  if tg_table_name = 'tenant_users' then
    perform pg_notify('gateway_changes', json_build_object(
      'table', 'tenant_users', 'op', 'DELETE', 'id', old.id, 'tenant', old.tenant_id, 'user', old.user_id, 'at', at
    )::text);
  elsif tg_table_name = 'tenants' then
    perform pg_notify('gateway_changes', json_build_object(
      'table', 'tenants', 'op', 'UPDATE', 'id', new.id, 'tenant', new.id,
      'status', new.status, 'previous', old.status, 'at', at
    )::text);
  elsif tg_table_name = 'users' then
    for membership in select tu.tenant_id from public.tenant_users tu where tu.user_id = new.id loop
      perform pg_notify('gateway_changes', json_build_object(
        'table', 'users', 'op', 'UPDATE', 'id', new.id, 'tenant', membership.tenant_id, 'user', new.id,
        'status', case when new.is_active then 'ACTIVE' else 'INACTIVE' end,
        'previous', case when old.is_active then 'ACTIVE' else 'INACTIVE' end, 'at', at
      )::text);
    end loop;
  end if;
  return null;
end;
$$;
comment on function private.announce_access_change() is
  'Trigger: announces a removed membership, a tenant status change or a user (de)activation on NOTIFY channel gateway_changes.';
revoke all on function private.announce_access_change() from public;

create trigger announce_membership_removed after delete on public.tenant_users
  for each row execute function private.announce_access_change();
create trigger announce_tenant_status after update of status on public.tenants
  for each row when (old.status is distinct from new.status) execute function private.announce_access_change();
create trigger announce_user_activation after update of is_active on public.users
  for each row when (old.is_active is distinct from new.is_active) execute function private.announce_access_change();
