-- The audit trail of private rows (conversations and their messages) is readable by the
-- user they belong to and by service_role, not by the tenant's OWNERs and ADMINs, who
-- cannot read the rows themselves and should not learn from the trail that they exist.
-- API keys are not private in this sense: OWNERs and ADMINs manage (list and revoke) every
-- key of their tenant, so their entries stay on the tenant's trail.

alter table public.audit_logs add column is_private boolean not null default false;
alter table public.audit_logs add column private_to uuid;
comment on column public.audit_logs.is_private is
  'The written row is private to one user (private_to); the tenant''s admins do not read this entry.';
comment on column public.audit_logs.private_to is
  'The user a private row belongs to; null when unknown (a message whose conversation was deleted with it).';
create index audit_logs_private_to_seq_idx on public.audit_logs (private_to, seq desc) where is_private;

-- The trail is append-only for everyone; this one-off backfill is the owner's.
alter table public.audit_logs disable trigger refuse_audit_rewrite;
update public.audit_logs a
set is_private = true,
    private_to = case a.table_name
      when 'conversations' then (coalesce(a.new_values, a.old_values) ->> 'user_id')::uuid
      else (select c.user_id from public.conversations c
            where c.id = (coalesce(a.new_values, a.old_values) ->> 'conversation_id')::uuid)
    end
where a.table_name in ('conversations', 'messages');
alter table public.audit_logs enable trigger refuse_audit_rewrite;

create or replace function private.record_audit() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  old_row jsonb := case when tg_op <> 'INSERT' then to_jsonb(old) end;
  new_row jsonb := case when tg_op <> 'DELETE' then to_jsonb(new) end;
  any_row jsonb := coalesce(new_row, old_row);
  hidden text[] := array['embedding'] || coalesce(tg_argv::text[], '{}');
  owner_id uuid;
begin
  if tg_table_name = 'conversations' then
    owner_id := (any_row ->> 'user_id')::uuid;
  elsif tg_table_name = 'messages' then
    select c.user_id into owner_id from public.conversations c where c.id = (any_row ->> 'conversation_id')::uuid;
  end if;
  insert into public.audit_logs (
    tenant_id, actor_id, actor_role, table_name, row_id, action, old_values, new_values, is_private, private_to
  ) values (
    coalesce(any_row ->> 'tenant_id', case when tg_table_name = 'tenants' then any_row ->> 'id' end)::uuid,
    auth.uid(),
    coalesce(auth.role(), session_user::text),
    tg_table_name,
    (any_row ->> 'id')::uuid,
    tg_op::public.audit_action,
    old_row - hidden,
    new_row - hidden,
    tg_table_name in ('conversations', 'messages'),
    owner_id
  );
  return null;
end;
$$;

drop policy "Owners and admins can read their tenant's audit trail" on public.audit_logs;
create policy "Admins can read their tenant's audit trail, private rows aside"
  on public.audit_logs for select to authenticated
  using (
    tenant_id = (select private.active_tenant_id()) and (select private.active_tenant_role()) >= 'ADMIN'
    and not is_private
  );
create policy "Users can read the audit entries of their own private rows"
  on public.audit_logs for select to authenticated
  using (is_private and private_to = (select auth.uid()) and tenant_id = (select private.active_tenant_id()));
