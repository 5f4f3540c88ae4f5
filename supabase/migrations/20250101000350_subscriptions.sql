-- Billing: a tenant's subscription history and metered usage. Written only by
-- service_role (the billing backend); readable by the tenant's owners and admins.

create table public.subscriptions (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  plan public.subscription_plan not null,
  status public.subscription_status not null default 'PENDING',
  current_period_start timestamptz not null,
  current_period_end timestamptz not null,
  cancel_at_period_end boolean not null default false,
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (current_period_end > current_period_start),
  unique (id, tenant_id)
);
-- At most one current subscription per tenant; expired and cancelled ones are history.
create unique index subscriptions_one_current_per_tenant_idx on public.subscriptions (tenant_id)
  where status in ('ACTIVE', 'PENDING');
create index subscriptions_tenant_id_idx on public.subscriptions (tenant_id, current_period_start desc);

create table public.subscription_usage (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null,
  subscription_id uuid not null,
  metric text not null check (metric ~ '^[a-z][a-z0-9_.]{0,99}$'),
  period text not null check (char_length(period) between 1 and 32),
  value bigint not null default 0 check (value >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (subscription_id, metric, period),
  foreign key (subscription_id, tenant_id) references public.subscriptions (id, tenant_id) on delete cascade
);
create index subscription_usage_tenant_id_idx on public.subscription_usage (tenant_id);

create trigger set_updated_at before update on public.subscriptions
  for each row execute function private.set_updated_at();
create trigger set_updated_at before update on public.subscription_usage
  for each row execute function private.set_updated_at();

revoke all on public.subscriptions, public.subscription_usage from anon, authenticated;
grant select on public.subscriptions, public.subscription_usage to authenticated;
grant all on public.subscriptions, public.subscription_usage to service_role;
alter table public.subscriptions enable row level security;
alter table public.subscription_usage enable row level security;

create policy "Owners and admins can read their tenant's subscriptions"
  on public.subscriptions for select to authenticated
  using (tenant_id = (select private.active_tenant_id()) and (select private.active_tenant_role()) >= 'ADMIN');
create policy "Owners and admins can read their tenant's usage"
  on public.subscription_usage for select to authenticated
  using (tenant_id = (select private.active_tenant_id()) and (select private.active_tenant_role()) >= 'ADMIN');
