-- AI analyses, with an embedding for semantic search and a guarded status lifecycle.

create table public.analyses (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  user_id uuid not null references public.users (id) on delete cascade,
  project_id uuid,
  type public.analysis_type not null,
  input text not null check (char_length(input) between 1 and 100000),
  result jsonb,
  confidence real check (confidence between 0 and 1),
  status public.analysis_status not null default 'PENDING',
  model text check (char_length(model) <= 200),
  processing_time_ms integer check (processing_time_ms >= 0),
  credits_cost integer not null default 0 check (credits_cost >= 0),
  metadata jsonb not null default '{}'::jsonb,
  embedding extensions.vector(384),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (project_id, tenant_id) references public.projects (id, tenant_id) on delete set null (project_id)
);
create index analyses_tenant_id_created_at_idx on public.analyses (tenant_id, created_at desc);
create index analyses_user_id_idx on public.analyses (user_id);
create index analyses_project_id_idx on public.analyses (project_id);
create index analyses_tenant_id_status_idx on public.analyses (tenant_id, status);
create index analyses_embedding_idx on public.analyses
  using hnsw (embedding extensions.vector_cosine_ops);

create trigger set_updated_at before update on public.analyses
  for each row execute function private.set_updated_at();

create or replace function private.guard_analysis_status() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.status is distinct from old.status and not (
    (old.status = 'PENDING' and new.status = 'PROCESSING')
    or (old.status = 'PROCESSING' and new.status in ('COMPLETED', 'FAILED'))
  ) then
    raise exception 'analysis status cannot move from % to %', old.status, new.status
      using errcode = 'GW003';
  end if;
  return new;
end;
$$;
comment on function private.guard_analysis_status() is
  'Allows only PENDING -> PROCESSING -> COMPLETED | FAILED, so no client can rewrite history.';
create trigger guard_analysis_status before update of status on public.analyses
  for each row execute function private.guard_analysis_status();

create or replace function private.start_analyses_pending() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if current_user in ('anon', 'authenticated') and new.status <> 'PENDING' then
    raise exception 'a new analysis starts PENDING, got %', new.status using errcode = 'GW003';
  end if;
  return new;
end;
$$;
comment on function private.start_analyses_pending() is
  'API callers create analyses PENDING; only the owner (imports, demo data) and service_role may insert later states.';
create trigger start_analyses_pending before insert on public.analyses
  for each row execute function private.start_analyses_pending();

call private.apply_tenant_content_policies('public.analyses');
