-- Audit trail: one row per write to a business table, written by triggers only,
-- readable by the tenant's owners and admins, never changed or deleted.

create table public.audit_logs (
  id uuid primary key default gen_random_uuid(),
  seq bigint generated always as identity unique,
  -- No foreign keys: the trail outlives the rows, users and tenants it describes.
  tenant_id uuid,
  actor_id uuid,
  actor_role text not null,
  table_name text not null,
  row_id uuid,
  action public.audit_action not null,
  old_values jsonb,
  new_values jsonb,
  created_at timestamptz not null default now()
);
comment on column public.audit_logs.tenant_id is 'Null for rows outside any tenant (user profiles).';
create index audit_logs_tenant_id_seq_idx on public.audit_logs (tenant_id, seq desc);
create index audit_logs_table_name_row_id_idx on public.audit_logs (table_name, row_id);
create index audit_logs_actor_id_idx on public.audit_logs (actor_id);

create or replace function private.record_audit() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  old_row jsonb := case when tg_op <> 'INSERT' then to_jsonb(old) end;
  new_row jsonb := case when tg_op <> 'DELETE' then to_jsonb(new) end;
  any_row jsonb := coalesce(new_row, old_row);
  hidden text[] := array['embedding'] || coalesce(tg_argv::text[], '{}');
begin
  insert into public.audit_logs (tenant_id, actor_id, actor_role, table_name, row_id, action, old_values, new_values)
  values (
    coalesce(any_row ->> 'tenant_id', case when tg_table_name = 'tenants' then any_row ->> 'id' end)::uuid,
    auth.uid(),
    coalesce(auth.role(), session_user::text),
    tg_table_name,
    (any_row ->> 'id')::uuid,
    tg_op::public.audit_action,
    old_row - hidden,
    new_row - hidden
  );
  return null;
end;
$$;
comment on function private.record_audit() is
  'Trigger: appends an audit row. Trigger arguments name columns never to copy (private or secret content).';

create or replace function private.refuse_audit_rewrite() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  raise exception 'audit_logs is append-only' using errcode = '42501';
end;
$$;
create trigger refuse_audit_rewrite before update or delete on public.audit_logs
  for each row execute function private.refuse_audit_rewrite();
create trigger refuse_audit_truncate before truncate on public.audit_logs
  for each statement execute function private.refuse_audit_rewrite();

revoke all on public.audit_logs from anon, authenticated, service_role;
grant select on public.audit_logs to authenticated, service_role;
alter table public.audit_logs enable row level security;
create policy "Owners and admins can read their tenant's audit trail"
  on public.audit_logs for select to authenticated
  using (tenant_id = (select private.active_tenant_id()) and (select private.active_tenant_role()) >= 'ADMIN');

do $$
declare
  tbl text;
begin
  foreach tbl in array array[
    'users', 'tenants', 'tenant_users', 'tenant_settings', 'subscriptions', 'subscription_usage',
    'projects', 'analyses', 'uploads', 'posts', 'content_generations', 'credit_transactions',
    'contract_analyses', 'localization_analyses', 'customer_behavior_analyses',
    'compliance_monitoring', 'learning_paths'
  ] loop
    execute format(
      'create trigger record_audit after insert or update or delete on public.%I
         for each row execute function private.record_audit()', tbl);
  end loop;
end
$$;

-- Private or secret content never reaches the trail that admins read.
create trigger record_audit after insert or update or delete on public.conversations
  for each row execute function private.record_audit('title', 'metadata');
create trigger record_audit after insert or update or delete on public.messages
  for each row execute function private.record_audit('content', 'metadata');
create trigger record_audit after insert or update or delete on public.api_keys
  for each row execute function private.record_audit('key_hash');
