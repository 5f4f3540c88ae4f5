-- Text, code and image generations and what each cost.

create table public.content_generations (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  user_id uuid not null references public.users (id) on delete cascade,
  project_id uuid,
  type public.generation_type not null,
  prompt text not null check (char_length(prompt) between 1 and 100000),
  output text,
  model text check (char_length(model) <= 200),
  tokens_used integer check (tokens_used >= 0),
  credits_cost integer not null default 0 check (credits_cost >= 0),
  processing_time_ms integer check (processing_time_ms >= 0),
  quality_score real check (quality_score between 0 and 1),
  status public.generation_status not null default 'PENDING',
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (project_id, tenant_id) references public.projects (id, tenant_id) on delete set null (project_id)
);
create index content_generations_tenant_id_created_at_idx on public.content_generations (tenant_id, created_at desc);
create index content_generations_user_id_idx on public.content_generations (user_id);
create index content_generations_project_id_idx on public.content_generations (project_id);

create trigger set_updated_at before update on public.content_generations
  for each row execute function private.set_updated_at();

call private.apply_tenant_content_policies('public.content_generations');
