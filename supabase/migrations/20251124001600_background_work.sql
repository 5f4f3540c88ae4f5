-- The database starts the background work itself, so it happens whoever wrote the row (the
-- gateway, the Data API, an import): triggers put jobs on private.jobs and a worker
-- (src/worker) runs them as service_role.
--   * every paid request (analyses, content generations, the five business solutions) inserted
--     PENDING gets one `run_request` job;
--   * every post and analysis gets an `embed` job when it is created or its text changes, unless
--     it arrives with its embedding (imports, the benchmark);
--   * a request that reaches FAILED gets back exactly what was spent on it: a REFUND entry equal
--     to its SPEND entry, once (a unique index), and none for a row that was never charged.

-- Which model wrote a row's embedding: `npm run embeddings:backfill` re-embeds rows of another
-- model (or none). Server-owned like the embedding: API callers hold no grant on either.
alter table public.posts add column embedding_model text check (char_length(embedding_model) <= 200);
alter table public.analyses add column embedding_model text check (char_length(embedding_model) <= 200);

-- One job per row and kind: its key is kind:table:id, so a row waiting for the same work is not
-- queued twice. The triggers below, the worker (a row whose text changed while it was being
-- embedded) and embeddings:backfill all queue through this one function.
create function private.enqueue_row_job(job_kind text, row_table text, row_id uuid) returns bigint
language sql security definer
set search_path = ''
as $$
  select private.enqueue_job(job_kind, jsonb_build_object('table', row_table, 'id', row_id),
                             job_kind || ':' || row_table || ':' || row_id::text);
$$;
comment on function private.enqueue_row_job(text, text, uuid) is
  'Queues job_kind for one row of public.row_table, once while it waits (service_role, and the triggers).';
revoke all on function private.enqueue_row_job(text, text, uuid) from public;
grant execute on function private.enqueue_row_job(text, text, uuid) to service_role;

create function private.enqueue_row_job_trigger() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  perform private.enqueue_row_job(tg_argv[0], tg_table_name, new.id);
  return null;
end;
$$;
comment on function private.enqueue_row_job_trigger() is
  'Trigger: queues the job kind named by its argument for the inserted or updated row.';
revoke all on function private.enqueue_row_job_trigger() from public;

-- A request inserted PENDING is run; a post or analysis is embedded when it is new (unless it
-- arrives with its embedding) and whenever its text changes.
do $$
declare
  tbl text;
begin
  foreach tbl in array array[
    'analyses', 'content_generations', 'contract_analyses', 'localization_analyses',
    'customer_behavior_analyses', 'compliance_monitoring', 'learning_paths'
  ] loop
    execute format(
      'create trigger enqueue_request_run after insert on public.%I for each row when (new.status = ''PENDING'') '
      'execute function private.enqueue_row_job_trigger(''run_request'')', tbl);
  end loop;
end
$$;

create trigger enqueue_embedding after insert on public.posts
  for each row when (new.embedding_model is null) execute function private.enqueue_row_job_trigger('embed');
create trigger enqueue_embedding_on_change after update of title, excerpt, content on public.posts
  for each row when ((old.title, old.excerpt, old.content) is distinct from (new.title, new.excerpt, new.content))
  execute function private.enqueue_row_job_trigger('embed');
create trigger enqueue_embedding after insert on public.analyses
  for each row when (new.embedding_model is null) execute function private.enqueue_row_job_trigger('embed');
create trigger enqueue_embedding_on_change after update of input, result on public.analyses
  for each row when ((old.input, old.result) is distinct from (new.input, new.result))
  execute function private.enqueue_row_job_trigger('embed');

-- Refunds. A request's SPEND entry names the row in its metadata (charge_for_request's second
-- argument), so the refund looks it up there; the GIN index finds it without reading the ledger.
create index credit_transactions_metadata_idx on public.credit_transactions
  using gin (metadata jsonb_path_ops) where kind in ('SPEND', 'REFUND');
-- At most one refund per request, whatever path or retry reaches FAILED.
create unique index credit_transactions_one_refund_idx on public.credit_transactions ((metadata ->> 'refundOf'))
  where kind = 'REFUND' and metadata ? 'refundOf';

create function private.refund_failed_request() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  refund_of text := tg_table_name || ':' || new.id::text;
  spent integer;
begin
  select -ct.amount into spent
  from public.credit_transactions ct
  where ct.kind = 'SPEND' and ct.tenant_id = new.tenant_id and ct.user_id = new.user_id
    and ct.metadata @> jsonb_build_object(tg_argv[0], new.id)
  limit 1;
  if spent is null or spent <= 0 then
    return null;  -- never charged (imports, demo data, service_role's own rows)
  end if;
  if exists (select 1 from public.credit_transactions ct
             where ct.kind = 'REFUND' and ct.metadata ? 'refundOf' and ct.metadata ->> 'refundOf' = refund_of) then
    return null;
  end if;
  perform private.append_credit_entry(new.tenant_id, new.user_id, spent, 'REFUND', tg_argv[1] || '_refund',
                                      jsonb_build_object('refundOf', refund_of, tg_argv[0], new.id));
  return null;
end;
$$;
comment on function private.refund_failed_request() is
  'Trigger: when a request reaches FAILED, credits back what its SPEND entry took, once. Arguments: the SPEND metadata key naming the row, the ledger reason''s prefix.';
revoke all on function private.refund_failed_request() from public;

-- Each request table with the SPEND metadata key and ledger reason charge_for_request gave it.
do $$
declare
  request record;
begin
  for request in select * from (values
    ('analyses', 'analysisId', 'analysis'),
    ('content_generations', 'contentGenerationId', 'generation'),
    ('contract_analyses', 'contractAnalysisId', 'contract_analysis'),
    ('localization_analyses', 'localizationAnalysisId', 'localization_analysis'),
    ('customer_behavior_analyses', 'customerBehaviorAnalysisId', 'customer_behavior_analysis'),
    ('compliance_monitoring', 'complianceMonitoringId', 'compliance_monitoring'),
    ('learning_paths', 'learningPathId', 'learning_path')
  ) as r (table_name, spend_key, reason) loop
    execute format(
      'create trigger refund_failed_request after update of status on public.%I for each row '
      'when (new.status = ''FAILED'' and old.status <> ''FAILED'') execute function private.refund_failed_request(%L, %L)',
      request.table_name, request.spend_key, request.reason);
  end loop;
end
$$;

-- An embedding is the row's index, not its content: writing one is no event for the audit
-- trail. The trigger now hides embedding_model too, and skips an update that changed nothing
-- it records.
create or replace function private.record_audit() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  old_row jsonb := case when tg_op <> 'INSERT' then to_jsonb(old) end;
  new_row jsonb := case when tg_op <> 'DELETE' then to_jsonb(new) end;
  any_row jsonb := coalesce(new_row, old_row);
  hidden text[] := array['embedding', 'embedding_model'] || coalesce(tg_argv::text[], '{}');
  owner_id uuid;
begin
  if tg_op = 'UPDATE' and (old_row - hidden - 'updated_at') = (new_row - hidden - 'updated_at') then
    return null;
  end if;
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
