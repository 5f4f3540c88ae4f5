-- Projects: the unit of work inside a tenant.

create table public.projects (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  user_id uuid not null references public.users (id) on delete cascade,
  name text not null check (char_length(name) between 1 and 200),
  description text check (char_length(description) <= 10000),
  status public.project_status not null default 'ACTIVE',
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- Target of the composite foreign keys that keep children in their project's tenant.
  unique (id, tenant_id)
);
comment on column public.projects.metadata is 'budget, teamSize, securityLevel, compliance, timeline.';
create index projects_tenant_id_created_at_idx on public.projects (tenant_id, created_at desc);
create index projects_user_id_idx on public.projects (user_id);

create trigger set_updated_at before update on public.projects
  for each row execute function private.set_updated_at();

create or replace function private.enforce_project_quota() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  quota integer;
begin
  select t.max_projects into quota from public.tenants t where t.id = new.tenant_id for update;
  if (select count(*) from public.projects p where p.tenant_id = new.tenant_id) >= quota then
    raise exception 'tenant has reached its project quota of %', quota using errcode = 'GW005';
  end if;
  return new;
end;
$$;
create trigger enforce_project_quota before insert on public.projects
  for each row execute function private.enforce_project_quota();

call private.apply_tenant_content_policies('public.projects');
