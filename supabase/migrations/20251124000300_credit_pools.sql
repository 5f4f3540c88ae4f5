-- Who creates credits. Only service_role (the billing backend) adds credits, recording a
-- purchase or a grant, either into a tenant's pool or to a member. A tenant's OWNERs and
-- ADMINs distribute the pool their tenant bought to its members, never beyond it. Nobody
-- inside a tenant can create credits, so credits gate the work they pay for.

-- A null user_id is the tenant's pool, with its own running balance.
alter table public.credit_transactions alter column user_id drop not null;
comment on column public.credit_transactions.user_id is
  'The member whose balance the entry changes; null for the tenant''s pool.';
alter table public.credit_transactions drop constraint credit_transactions_check;
alter table public.credit_transactions add constraint credit_transactions_amount_sign_check check (
  case kind when 'SPEND' then amount < 0 when 'ALLOCATION' then true else amount > 0 end
);
alter table public.credit_transactions add constraint credit_transactions_pool_never_spends_check check (
  user_id is not null or kind <> 'SPEND'
);

create or replace function private.refuse_ledger_rewrite() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  -- The only deletes allowed are the cascades of a deleted tenant or user.
  if tg_op = 'DELETE' and (
    not exists (select 1 from public.tenants t where t.id = old.tenant_id)
    or (old.user_id is not null and not exists (select 1 from public.users u where u.id = old.user_id))
  ) then
    return old;
  end if;
  raise exception '% is append-only', tg_table_name using errcode = '42501';
end;
$$;

create or replace function private.append_credit_entry(
  p_tenant_id uuid, p_user_id uuid, p_amount integer, p_kind public.credit_kind,
  p_reason text, p_metadata jsonb
) returns public.credit_transactions
language plpgsql security definer
set search_path = ''
as $$
declare
  current_balance bigint;
  entry public.credit_transactions;
begin
  -- Serialises every change to one balance (a member's or the pool), so nothing overdraws.
  perform pg_advisory_xact_lock(hashtextextended(p_tenant_id::text || ':' || coalesce(p_user_id::text, 'pool'), 0));
  if p_user_id is null then
    select ct.balance_after into current_balance from public.credit_transactions ct
    where ct.tenant_id = p_tenant_id and ct.user_id is null order by ct.seq desc limit 1;
  else
    select ct.balance_after into current_balance from public.credit_transactions ct
    where ct.tenant_id = p_tenant_id and ct.user_id = p_user_id order by ct.seq desc limit 1;
  end if;
  current_balance := coalesce(current_balance, 0);
  if current_balance + p_amount < 0 then
    raise exception 'insufficient credits in %: balance %, requested %',
      case when p_user_id is null then 'the tenant''s pool' else 'your balance' end, current_balance, -p_amount
      using errcode = 'GW001';
  end if;
  insert into public.credit_transactions (tenant_id, user_id, amount, kind, reason, balance_after, metadata)
  values (p_tenant_id, p_user_id, p_amount, p_kind, p_reason, current_balance + p_amount, coalesce(p_metadata, '{}'))
  returning * into entry;
  return entry;
end;
$$;

create or replace function private.is_service_role() returns boolean
language sql stable
set search_path = ''
as $$
  -- Both the claim and the role in effect: a claim alone could be a setting, not a verified token.
  select coalesce(auth.role(), '') = 'service_role' and current_setting('role', true) = 'service_role'
$$;
comment on function private.is_service_role() is 'True inside a request that runs as service_role (the billing backend, the worker).';
-- Called only from security definer functions, which run it as the owner.
revoke all on function private.is_service_role() from public;

create or replace function public.grant_credits(
  p_user_id uuid, p_amount integer, p_reason text,
  p_kind public.credit_kind default 'GRANT', p_tenant_id uuid default null, p_metadata jsonb default '{}'
) returns public.credit_transactions
language plpgsql security definer
set search_path = ''
as $$
begin
  if not private.is_service_role() then
    raise exception 'only service_role adds credits; OWNER and ADMIN allocate from the tenant''s pool'
      using errcode = '42501';
  end if;
  if p_amount is null or p_amount <= 0 then
    raise exception 'amount must be a positive integer, got %', p_amount using errcode = '22023';
  end if;
  if p_kind not in ('PURCHASE', 'GRANT', 'REFUND') then
    raise exception 'credits are added as PURCHASE, GRANT or REFUND, got %', p_kind using errcode = '22023';
  end if;
  if p_tenant_id is null or not exists (select 1 from public.tenants t where t.id = p_tenant_id) then
    raise exception 'p_tenant_id must name a tenant, got %', p_tenant_id using errcode = '22023';
  end if;
  if p_user_id is not null
     and not exists (select 1 from public.tenant_users tu where tu.tenant_id = p_tenant_id and tu.user_id = p_user_id) then
    raise exception 'user % is not a member of tenant %', p_user_id, p_tenant_id using errcode = '22023';
  end if;
  return private.append_credit_entry(p_tenant_id, p_user_id, p_amount, p_kind, p_reason, p_metadata);
end;
$$;
comment on function public.grant_credits(uuid, integer, text, public.credit_kind, uuid, jsonb) is
  'service_role only: adds PURCHASE, GRANT or REFUND credits to a member of p_tenant_id, or to its pool when p_user_id is null.';

create or replace function public.allocate_credits(p_user_id uuid, p_amount integer, p_reason text, p_metadata jsonb default '{}')
returns public.credit_transactions
language plpgsql security definer
set search_path = ''
as $$
declare
  tenant uuid := private.active_tenant_id();
begin
  if tenant is null or private.active_tenant_role() < 'ADMIN' then
    raise exception 'allocating credits requires ADMIN or OWNER in the active tenant' using errcode = '42501';
  end if;
  if p_amount is null or p_amount <= 0 then
    raise exception 'amount must be a positive integer, got %', p_amount using errcode = '22023';
  end if;
  if not exists (select 1 from public.tenant_users tu where tu.tenant_id = tenant and tu.user_id = p_user_id) then
    raise exception 'user % is not a member of the active tenant', p_user_id using errcode = '22023';
  end if;
  -- The pool first, always: one lock order, so concurrent allocations cannot deadlock.
  perform private.append_credit_entry(tenant, null, -p_amount, 'ALLOCATION', p_reason,
    coalesce(p_metadata, '{}') || jsonb_build_object('to', p_user_id, 'by', auth.uid()));
  return private.append_credit_entry(tenant, p_user_id, p_amount, 'ALLOCATION', p_reason,
    coalesce(p_metadata, '{}') || jsonb_build_object('by', auth.uid()));
end;
$$;
comment on function public.allocate_credits(uuid, integer, text, jsonb) is
  'Moves credits from the active tenant''s pool to one of its members (ADMIN and up); GW001 when the pool is short.';

create or replace function public.tenant_credit_pool() returns bigint
language plpgsql stable security definer
set search_path = ''
as $$
begin
  if private.active_tenant_id() is null or private.active_tenant_role() < 'ADMIN' then
    raise exception 'the credit pool is visible to ADMIN and OWNER of the active tenant' using errcode = '42501';
  end if;
  return coalesce((
    select ct.balance_after from public.credit_transactions ct
    where ct.tenant_id = private.active_tenant_id() and ct.user_id is null
    order by ct.seq desc limit 1
  ), 0);
end;
$$;
comment on function public.tenant_credit_pool() is 'The active tenant''s undistributed credits (ADMIN and up).';

revoke all on function public.allocate_credits(uuid, integer, text, jsonb) from public, anon;
revoke all on function public.tenant_credit_pool() from public, anon;
grant execute on function public.allocate_credits(uuid, integer, text, jsonb) to authenticated, service_role;
grant execute on function public.tenant_credit_pool() to authenticated, service_role;
