-- The change feed of the tables whose rows have a lifecycle: every insert, delete and status
-- change is announced on the NOTIFY channel `gateway_changes`, for the gateway processes to fan
-- out to their realtime subscribers. A notification names the row (table, id, tenant) and its
-- statuses, never its content: payloads stay small (NOTIFY's limit is 8,000 bytes), and what a
-- subscriber may read of the row is decided by reading it as that subscriber. NOTIFY is
-- delivered at commit, in commit order, and not at all for a transaction rolled back.
--
-- On hosted Supabase, the same tables join the `supabase_realtime` publication, so clients of
-- Supabase's own Realtime receive `postgres_changes` for them (with its row-level security).

create function private.announce_change() returns trigger
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
    'status', case when tg_op <> 'DELETE' then to_jsonb(new) ->> 'status' end,
    'previous', case when tg_op <> 'INSERT' then to_jsonb(old) ->> 'status' end,
    'at', to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
  )::text);
  return null;
end;
$$;
comment on function private.announce_change() is
  'Trigger: announces an insert, delete or status change on NOTIFY channel gateway_changes as {table, op, id, tenant, status, previous, at}.';
revoke all on function private.announce_change() from public;

do $$
declare
  tbl text;
begin
  foreach tbl in array array[
    'analyses', 'content_generations', 'contract_analyses', 'localization_analyses',
    'customer_behavior_analyses', 'compliance_monitoring', 'learning_paths', 'uploads'
  ] loop
    execute format(
      'create trigger announce_insert_or_delete after insert or delete on public.%I '
      'for each row execute function private.announce_change()', tbl);
    execute format(
      'create trigger announce_status_change after update of status on public.%I '
      'for each row when (old.status is distinct from new.status) execute function private.announce_change()', tbl);
    -- Supabase's Realtime reads this publication; elsewhere there is none and nothing is done.
    if exists (select 1 from pg_publication where pubname = 'supabase_realtime')
       and not exists (select 1 from pg_publication_tables
                       where pubname = 'supabase_realtime' and schemaname = 'public' and tablename = tbl) then
      execute format('alter publication supabase_realtime add table public.%I', tbl);
    end if;
  end loop;
end
$$;
