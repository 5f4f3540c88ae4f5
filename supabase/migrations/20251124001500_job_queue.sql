-- The background work's queue, in the database every gateway and worker already share (no
-- broker to run; PGlite has it too). A worker claims jobs for a lease: claimed rows are skipped
-- by every other claim (FOR UPDATE SKIP LOCKED) and stay its own until the lease ends, so two
-- workers never run one job at the same time; a worker killed mid-job stops renewing nothing,
-- its lease runs out and the job is claimed again, neither lost nor doubled while the lease
-- holds. A failure that may pass is retried with exponential backoff (2^attempts seconds, at
-- most an hour) until max_attempts; then, or for a failure that never will, the job is dead:
-- kept with its last error, never claimed again. Only service_role (the worker) touches it.

create table private.jobs (
  id bigint generated always as identity primary key,
  kind text not null check (kind ~ '^[a-z][a-z0-9_.]*$' and char_length(kind) <= 100),
  payload jsonb not null default '{}'::jsonb check (octet_length(payload::text) <= 65536),
  -- At most one waiting job per key (say, embedding one row): enqueueing it again is a no-op.
  unique_key text check (char_length(unique_key) <= 200),
  run_at timestamptz not null default now(),
  attempts integer not null default 0 check (attempts >= 0),
  max_attempts integer not null default 5 check (max_attempts between 1 and 100),
  locked_by text,
  locked_until timestamptz,
  last_error text check (char_length(last_error) <= 2000),
  dead_at timestamptz,
  created_at timestamptz not null default now()
);
create unique index jobs_unique_key_idx on private.jobs (unique_key) where unique_key is not null and dead_at is null;
create index jobs_due_idx on private.jobs (run_at) where dead_at is null;
alter table private.jobs enable row level security;

-- Adds a job; with a unique_key already waiting, returns that job's id instead.
create function private.enqueue_job(job_kind text, job_payload jsonb default '{}'::jsonb, job_unique_key text default null,
                                    run_after interval default '0 seconds', job_max_attempts integer default 5)
returns bigint
language plpgsql security definer
set search_path = ''
as $$
declare
  new_id bigint;
begin
  insert into private.jobs (kind, payload, unique_key, run_at, max_attempts)
  values (job_kind, job_payload, job_unique_key, now() + run_after, job_max_attempts)
  on conflict (unique_key) where unique_key is not null and dead_at is null do nothing
  returning id into new_id;
  if new_id is null then
    select id into new_id from private.jobs where unique_key = job_unique_key and dead_at is null;
  end if;
  return new_id;
end;
$$;

-- Claims up to `how_many` due jobs for `worker` for `lease`, oldest due first, counting an attempt.
create function private.claim_jobs(worker text, how_many integer, lease interval)
returns setof private.jobs
language sql security definer
set search_path = ''
as $$
  update private.jobs j
  set locked_by = worker, locked_until = now() + lease, attempts = j.attempts + 1
  where j.id in (
    select id from private.jobs
    where dead_at is null and run_at <= now() and (locked_until is null or locked_until < now())
    order by run_at, id
    limit greatest(how_many, 0)
    for update skip locked
  )
  returning j.*;
$$;

-- Ends a job that succeeded; false when the lease was lost (another worker may have it now).
create function private.complete_job(job_id bigint, worker text)
returns boolean
language sql security definer
set search_path = ''
as $$
  with done as (
    delete from private.jobs where id = job_id and locked_by = worker and locked_until >= now() returning 1
  )
  select exists (select 1 from done);
$$;

-- Records a failure: retried after 2^attempts seconds (at most an hour) while attempts remain and
-- `retry` holds, dead otherwise. False when the lease was lost.
create function private.fail_job(job_id bigint, worker text, error text, retry boolean)
returns boolean
language sql security definer
set search_path = ''
as $$
  with failed as (
    update private.jobs
    set locked_by = null,
        locked_until = null,
        last_error = left(error, 2000),
        run_at = now() + least(power(2, attempts), 3600) * interval '1 second',
        dead_at = case when retry and attempts < max_attempts then null else now() end
    where id = job_id and locked_by = worker and locked_until >= now()
    returning 1
  )
  select exists (select 1 from failed);
$$;

revoke all on table private.jobs from public, anon, authenticated;
revoke all on function private.enqueue_job(text, jsonb, text, interval, integer) from public;
revoke all on function private.claim_jobs(text, integer, interval) from public;
revoke all on function private.complete_job(bigint, text) from public;
revoke all on function private.fail_job(bigint, text, text, boolean) from public;
grant execute on function private.enqueue_job(text, jsonb, text, interval, integer) to service_role;
grant execute on function private.claim_jobs(text, integer, interval) to service_role;
grant execute on function private.complete_job(bigint, text) to service_role;
grant execute on function private.fail_job(bigint, text, text, boolean) to service_role;
