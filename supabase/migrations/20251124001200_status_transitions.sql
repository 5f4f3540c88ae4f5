-- Every status lifecycle of work (AI requests and uploads) lives in the database, as data:
-- one table of allowed moves and one trigger that reads it. Workers write statuses as
-- service_role through the Data API as well as through the gateway, so a rule kept in the
-- gateway alone could be walked around.
-- Replaces the analyses' own trigger, the gateway's conditional update for content
-- generations and its row lock for the business solutions; uploads had no rule at all.

-- The rules as rows, so a lifecycle changes with an insert or delete, not a new function.
create table private.status_transitions (
  table_name text not null check (table_name ~ '^[a-z_]+$'),
  from_status text not null,
  to_status text not null,
  -- Staying put is no move, so it is never listed.
  check (from_status <> to_status),
  primary key (table_name, from_status, to_status)
);
comment on table private.status_transitions is
  'The status moves each table of public allows, one row per move; a status that is no row''s from_status is final. Read by private.guard_status_transition().';
alter table private.status_transitions enable row level security;

-- Analyses: queued, worked on, then done either way (as the old guard allowed).
insert into private.status_transitions (table_name, from_status, to_status) values
  ('analyses', 'PENDING', 'PROCESSING'),
  ('analyses', 'PROCESSING', 'COMPLETED'),
  ('analyses', 'PROCESSING', 'FAILED');

-- Content generations: the worker may finish one it never marked PROCESSING.
insert into private.status_transitions (table_name, from_status, to_status) values
  ('content_generations', 'PENDING', 'PROCESSING'),
  ('content_generations', 'PENDING', 'COMPLETED'),
  ('content_generations', 'PENDING', 'FAILED'),
  ('content_generations', 'PROCESSING', 'COMPLETED'),
  ('content_generations', 'PROCESSING', 'FAILED');

-- The five business solutions share their first steps: queued, worked on, then done or failed
-- (a request can fail before a worker picks it up). Each kind adds its own moves below.
insert into private.status_transitions (table_name, from_status, to_status)
select kind.table_name, move.from_status, move.to_status
from (values ('contract_analyses'), ('localization_analyses'), ('customer_behavior_analyses'),
             ('compliance_monitoring'), ('learning_paths')) as kind (table_name)
cross join (values
  ('PENDING', 'PROCESSING'),
  ('PENDING', 'FAILED'),
  ('PROCESSING', 'COMPLETED'),
  ('PROCESSING', 'FAILED')
) as move (from_status, to_status);

-- Contracts and localizations: a human review may send the work back or settle it.
insert into private.status_transitions (table_name, from_status, to_status)
select kind.table_name, move.from_status, move.to_status
from (values ('contract_analyses'), ('localization_analyses')) as kind (table_name)
cross join (values
  ('PROCESSING', 'REVIEW_REQUIRED'),
  ('REVIEW_REQUIRED', 'PROCESSING'),
  ('REVIEW_REQUIRED', 'COMPLETED'),
  ('REVIEW_REQUIRED', 'FAILED')
) as move (from_status, to_status);

-- Customer behavior: too little data is not final, it is re-run once more data has come in.
insert into private.status_transitions (table_name, from_status, to_status) values
  ('customer_behavior_analyses', 'PROCESSING', 'INSUFFICIENT_DATA'),
  ('customer_behavior_analyses', 'INSUFFICIENT_DATA', 'PROCESSING'),
  ('customer_behavior_analyses', 'INSUFFICIENT_DATA', 'FAILED');

-- Compliance monitoring is periodic: findings escalate or settle, and a completed review is re-run.
insert into private.status_transitions (table_name, from_status, to_status) values
  ('compliance_monitoring', 'PROCESSING', 'REVIEW_REQUIRED'),
  ('compliance_monitoring', 'PROCESSING', 'URGENT_ATTENTION'),
  ('compliance_monitoring', 'REVIEW_REQUIRED', 'PROCESSING'),
  ('compliance_monitoring', 'REVIEW_REQUIRED', 'COMPLETED'),
  ('compliance_monitoring', 'REVIEW_REQUIRED', 'FAILED'),
  ('compliance_monitoring', 'REVIEW_REQUIRED', 'URGENT_ATTENTION'),
  ('compliance_monitoring', 'URGENT_ATTENTION', 'PROCESSING'),
  ('compliance_monitoring', 'URGENT_ATTENTION', 'COMPLETED'),
  ('compliance_monitoring', 'URGENT_ATTENTION', 'FAILED'),
  ('compliance_monitoring', 'URGENT_ATTENTION', 'REVIEW_REQUIRED'),
  ('compliance_monitoring', 'COMPLETED', 'PROCESSING');

-- Learning paths: generated first, then followed by the learner, who may pause.
insert into private.status_transitions (table_name, from_status, to_status) values
  ('learning_paths', 'PROCESSING', 'IN_PROGRESS'),
  ('learning_paths', 'IN_PROGRESS', 'ON_HOLD'),
  ('learning_paths', 'IN_PROGRESS', 'COMPLETED'),
  ('learning_paths', 'IN_PROGRESS', 'FAILED'),
  ('learning_paths', 'ON_HOLD', 'IN_PROGRESS'),
  ('learning_paths', 'ON_HOLD', 'FAILED');

-- Uploads: processed or not, any file can be deleted, and a deleted one stays deleted.
insert into private.status_transitions (table_name, from_status, to_status) values
  ('uploads', 'PENDING', 'PROCESSING'),
  ('uploads', 'PENDING', 'COMPLETED'),
  ('uploads', 'PENDING', 'FAILED'),
  ('uploads', 'PENDING', 'DELETED'),
  ('uploads', 'PROCESSING', 'COMPLETED'),
  ('uploads', 'PROCESSING', 'FAILED'),
  ('uploads', 'PROCESSING', 'DELETED'),
  ('uploads', 'COMPLETED', 'DELETED'),
  ('uploads', 'FAILED', 'DELETED');

-- One guard for every table: security definer because no caller can read the rules themselves.
create function private.guard_status_transition() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  allowed text;
begin
  if new.status is not distinct from old.status or exists (
    select 1 from private.status_transitions t
    where t.table_name = tg_table_name and t.from_status = old.status::text and t.to_status = new.status::text
  ) then
    return new;
  end if;
  select string_agg(t.to_status, ', ' order by t.to_status collate "C") into allowed
  from private.status_transitions t
  where t.table_name = tg_table_name and t.from_status = old.status::text;
  raise exception '% status cannot move from % to %; allowed from %: %',
    tg_argv[0], old.status, new.status, old.status, coalesce(allowed, 'nothing, it is final')
    using errcode = 'GW003';
end;
$$;
comment on function private.guard_status_transition() is
  'Refuses (GW003) a status change that is no row of private.status_transitions for the table; staying put is no move, so workers can record progress. Its one trigger argument names a row in the message.';
revoke all on function private.guard_status_transition() from public;

-- The generic guard takes over from the analyses' own.
drop trigger guard_analysis_status on public.analyses;
drop function private.guard_analysis_status();

-- Attached to every table whose status tracks work, each naming its rows for the message.
create trigger guard_status_transition before update of status on public.analyses
  for each row execute function private.guard_status_transition('analysis');
create trigger guard_status_transition before update of status on public.content_generations
  for each row execute function private.guard_status_transition('content generation');
create trigger guard_status_transition before update of status on public.contract_analyses
  for each row execute function private.guard_status_transition('contract analysis');
create trigger guard_status_transition before update of status on public.localization_analyses
  for each row execute function private.guard_status_transition('localization analysis');
create trigger guard_status_transition before update of status on public.customer_behavior_analyses
  for each row execute function private.guard_status_transition('customer behavior analysis');
create trigger guard_status_transition before update of status on public.compliance_monitoring
  for each row execute function private.guard_status_transition('compliance monitoring');
create trigger guard_status_transition before update of status on public.learning_paths
  for each row execute function private.guard_status_transition('learning path');
create trigger guard_status_transition before update of status on public.uploads
  for each row execute function private.guard_status_transition('upload');
