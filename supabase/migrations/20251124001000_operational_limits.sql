-- What a tenant's plan and state allow, enforced where no path goes around it:
--   * a SUSPENDED or ARCHIVED tenant has no active tenant, and an inactive user no tenant at
--     all: the policies then show and accept nothing of them (GW006 where a function refuses);
--   * registering an upload beyond max_storage_bytes is refused (GW005);
--   * usage is metered per tenant and month (subscription_usage, metric api_calls) and request
--     rates are counted per key and minute, both by the gateways' periodic flush, never by a
--     write per request.

-- The helpers every policy is written with now also require an active tenant and user.
create or replace function private.active_tenant_id() returns uuid
language plpgsql stable security definer
set search_path = ''
as $$
declare
  claimed text := coalesce(
    nullif(current_setting('request.jwt.claim.tenant_id', true), ''),
    auth.jwt() -> 'app_metadata' ->> 'tenant_id'
  );
  caller uuid := auth.uid();
begin
  if caller is null or claimed is null
     or claimed !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    return null;
  end if;
  return (
    select tu.tenant_id
    from public.tenant_users tu
    join public.tenants t on t.id = tu.tenant_id
    join public.users u on u.id = tu.user_id
    where tu.tenant_id = claimed::uuid and tu.user_id = caller and t.status = 'ACTIVE' and u.is_active
  );
end;
$$;
comment on function private.active_tenant_id() is
  'The claimed tenant if the caller is an active user and an ACTIVE tenant''s member, else null: suspended tenants and inactive users reach no tenant content.';

create or replace function private.my_tenant_ids() returns setof uuid
language sql stable security definer
set search_path = ''
as $$
  select tu.tenant_id from public.tenant_users tu
  join public.users u on u.id = tu.user_id
  where tu.user_id = auth.uid() and u.is_active
$$;
comment on function private.my_tenant_ids() is
  'Every tenant an active caller belongs to, suspended ones included (their rows stay readable, their content does not).';

create or replace function private.require_active_tenant() returns uuid
language plpgsql stable security definer
set search_path = ''
as $$
declare
  claimed text := coalesce(
    nullif(current_setting('request.jwt.claim.tenant_id', true), ''),
    auth.jwt() -> 'app_metadata' ->> 'tenant_id'
  );
  tenant_status public.tenant_status;
begin
  if claimed ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    select t.status into tenant_status from public.tenants t
    join public.tenant_users tu on tu.tenant_id = t.id and tu.user_id = auth.uid()
    where t.id = claimed::uuid;
    if tenant_status is not null and tenant_status <> 'ACTIVE' then
      raise exception 'the tenant is %: nothing can be done in it until it is active again', tenant_status
        using errcode = 'GW006';
    end if;
  end if;
  return private.active_tenant_id();
end;
$$;
comment on function private.require_active_tenant() is
  'The active tenant, raising GW006 when the claimed tenant of a member is suspended or archived.';
revoke all on function private.require_active_tenant() from public;

-- Paid requests name the reason a suspended tenant's member is refused.
create or replace function private.charge_request(
  p_request text, p_type text, p_tenant_id uuid, p_user_id uuid, p_reason text, p_metadata jsonb
) returns integer
language plpgsql security definer
set search_path = ''
as $$
declare
  price integer;
begin
  if p_user_id is distinct from auth.uid() or p_tenant_id is distinct from private.require_active_tenant()
     or coalesce(private.active_tenant_role() < 'MEMBER', true) then
    raise exception 'requests are paid by their requester, a MEMBER or higher of the active tenant'
      using errcode = '42501';
  end if;
  select rp.credits into price from private.request_prices rp
  where rp.request = p_request and rp.type = coalesce(p_type, '');
  if price is null then
    raise exception 'no price for % %', p_request, coalesce(p_type, '') using errcode = '22023';
  end if;
  perform private.append_credit_entry(p_tenant_id, p_user_id, -price, 'SPEND', p_reason, p_metadata);
  return price;
end;
$$;

-- Storage: what a tenant's uploads may add up to.
create or replace function private.enforce_storage_quota() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  quota bigint;
  used bigint;
begin
  if new.status = 'DELETED' then
    return new;
  end if;
  -- Lock the tenant so two registrations cannot both fit in the same remaining space.
  select t.max_storage_bytes into quota from public.tenants t where t.id = new.tenant_id for update;
  select coalesce(sum(u.size_bytes), 0) into used from public.uploads u
  where u.tenant_id = new.tenant_id and u.status <> 'DELETED' and u.id <> new.id;
  if used + new.size_bytes > quota then
    raise exception 'tenant storage quota of % bytes exceeded: % in use, % more requested', quota, used, new.size_bytes
      using errcode = 'GW005';
  end if;
  return new;
end;
$$;
create trigger enforce_storage_quota before insert or update of size_bytes, status on public.uploads
  for each row execute function private.enforce_storage_quota();
create index uploads_tenant_id_status_idx on public.uploads (tenant_id) include (size_bytes) where status <> 'DELETED';

-- Usage: one row per tenant, metric and period, whether or not a subscription is current.
alter table public.subscription_usage alter column subscription_id drop not null;
alter table public.subscription_usage add constraint subscription_usage_tenant_id_fkey
  foreign key (tenant_id) references public.tenants (id) on delete cascade;
alter table public.subscription_usage add constraint subscription_usage_tenant_metric_period_key
  unique (tenant_id, metric, period);
comment on column public.subscription_usage.subscription_id is
  'The subscription current when the period was first metered; null for a tenant without one.';
-- Metering is the gateway's high-volume bookkeeping, not a change anybody made.
drop trigger record_audit on public.subscription_usage;

create or replace function private.record_api_calls(p_tenant_ids uuid[], p_calls integer[], p_period text)
returns table (tenant_id uuid, calls bigint)
language sql volatile security definer
set search_path = ''
as $$
  insert into public.subscription_usage as su (tenant_id, subscription_id, metric, period, value)
  select d.tenant_id,
         (select s.id from public.subscriptions s
          where s.tenant_id = d.tenant_id and s.status in ('ACTIVE', 'PENDING') limit 1),
         'api_calls', p_period, d.calls
  from unnest(p_tenant_ids, p_calls) as d (tenant_id, calls)
  where exists (select 1 from public.tenants t where t.id = d.tenant_id)
  on conflict (tenant_id, metric, period) do update set value = su.value + excluded.value
  returning su.tenant_id, su.value
$$;
comment on function private.record_api_calls(uuid[], integer[], text) is
  'Adds each tenant''s API calls counted since the last flush to its usage for the period (YYYY-MM) and returns the totals.';

-- Requests per key and minute, shared by every gateway process.
create table private.request_counters (
  key text not null check (char_length(key) <= 200),
  window_start bigint not null,
  requests bigint not null default 0,
  primary key (key, window_start)
);
comment on table private.request_counters is
  'Requests counted per rate-limit key (tenant:, caller:, ip:) and minute (window_start, in epoch minutes).';
alter table private.request_counters enable row level security;

create or replace function private.record_requests(p_keys text[], p_windows bigint[], p_requests integer[], p_current_window bigint)
returns table (key text, window_start bigint, requests bigint)
language plpgsql volatile security definer
set search_path = ''
as $$
begin
  insert into private.request_counters as rc (key, window_start, requests)
  select d.key, d.window_start, d.requests
  from unnest(p_keys, p_windows, p_requests) as d (key, window_start, requests)
  where d.requests > 0
  on conflict on constraint request_counters_pkey do update set requests = rc.requests + excluded.requests;
  -- Windows older than the previous minute no longer count for anything.
  delete from private.request_counters rc where rc.window_start < p_current_window - 1;
  return query
  select rc.key, rc.window_start, rc.requests from private.request_counters rc
  where rc.key = any (p_keys) and rc.window_start >= p_current_window - 1;
end;
$$;
comment on function private.record_requests(text[], bigint[], integer[], bigint) is
  'Adds a gateway''s request counts since its last flush and returns every process''s totals for the current and previous minute.';

revoke all on function private.record_api_calls(uuid[], integer[], text) from public;
revoke all on function private.record_requests(text[], bigint[], integer[], bigint) from public;
grant execute on function private.record_api_calls(uuid[], integer[], text) to service_role;
grant execute on function private.record_requests(text[], bigint[], integer[], bigint) to service_role;

-- A tenant's own limits (`limits.*` settings, such as limits.requests_per_minute) are the
-- platform's to set: OWNERs and ADMINs keep every other setting, but cannot raise their own limits.
drop policy "Owners and admins can create settings" on public.tenant_settings;
drop policy "Owners and admins can change settings" on public.tenant_settings;
drop policy "Owners and admins can delete settings" on public.tenant_settings;
create policy "Owners and admins can create settings other than limits"
  on public.tenant_settings for insert to authenticated
  with check (
    tenant_id = (select private.active_tenant_id()) and (select private.active_tenant_role()) >= 'ADMIN'
    and key not like 'limits.%'
  );
create policy "Owners and admins can change settings other than limits"
  on public.tenant_settings for update to authenticated
  using (tenant_id = (select private.active_tenant_id()) and (select private.active_tenant_role()) >= 'ADMIN' and key not like 'limits.%')
  with check (tenant_id = (select private.active_tenant_id()) and key not like 'limits.%');
create policy "Owners and admins can delete settings other than limits"
  on public.tenant_settings for delete to authenticated
  using (tenant_id = (select private.active_tenant_id()) and (select private.active_tenant_role()) >= 'ADMIN' and key not like 'limits.%');
