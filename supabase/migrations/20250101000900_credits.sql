-- The credit ledger: append-only, one running balance per (tenant, user),
-- written only by spend_credits and grant_credits.

create table public.credit_transactions (
  id uuid primary key default gen_random_uuid(),
  -- Total order of a balance's entries; timestamps can tie.
  seq bigint generated always as identity unique,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  user_id uuid not null references public.users (id) on delete cascade,
  amount integer not null check (amount <> 0),
  kind public.credit_kind not null,
  reason text not null check (char_length(reason) between 1 and 500),
  balance_after bigint not null check (balance_after >= 0),
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  check ((kind = 'SPEND') = (amount < 0))
);
comment on table public.credit_transactions is
  'Append-only ledger. balance_after of the latest entry (by seq) is the balance of (tenant_id, user_id).';
create index credit_transactions_balance_idx on public.credit_transactions (tenant_id, user_id, seq desc);
create index credit_transactions_user_id_idx on public.credit_transactions (user_id);

create or replace function private.refuse_ledger_rewrite() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  -- The only deletes allowed are the cascades of a deleted tenant or user.
  if tg_op = 'DELETE' and (
    not exists (select 1 from public.tenants t where t.id = old.tenant_id)
    or not exists (select 1 from public.users u where u.id = old.user_id)
  ) then
    return old;
  end if;
  raise exception '% is append-only', tg_table_name using errcode = '42501';
end;
$$;
create trigger refuse_ledger_rewrite before update or delete on public.credit_transactions
  for each row execute function private.refuse_ledger_rewrite();

revoke all on public.credit_transactions from anon, authenticated, service_role;
grant select on public.credit_transactions to authenticated, service_role;
alter table public.credit_transactions enable row level security;

create policy "Users can read their own credit transactions"
  on public.credit_transactions for select to authenticated
  using (tenant_id = (select private.active_tenant_id()) and user_id = (select auth.uid()));
create policy "Admins can read their tenant's credit transactions"
  on public.credit_transactions for select to authenticated
  using (tenant_id = (select private.active_tenant_id()) and (select private.active_tenant_role()) >= 'ADMIN');

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
  -- Serialises every change to one balance, so concurrent spends cannot overdraw.
  perform pg_advisory_xact_lock(hashtextextended(p_tenant_id::text || ':' || p_user_id::text, 0));
  select ct.balance_after into current_balance
  from public.credit_transactions ct
  where ct.tenant_id = p_tenant_id and ct.user_id = p_user_id
  order by ct.seq desc
  limit 1;
  current_balance := coalesce(current_balance, 0);
  if current_balance + p_amount < 0 then
    raise exception 'insufficient credits: balance %, requested %', current_balance, -p_amount
      using errcode = 'GW001';
  end if;
  insert into public.credit_transactions (tenant_id, user_id, amount, kind, reason, balance_after, metadata)
  values (p_tenant_id, p_user_id, p_amount, p_kind, p_reason, current_balance + p_amount, coalesce(p_metadata, '{}'))
  returning * into entry;
  return entry;
end;
$$;
revoke all on function private.append_credit_entry(uuid, uuid, integer, public.credit_kind, text, jsonb) from public;

create or replace function public.spend_credits(p_amount integer, p_reason text, p_metadata jsonb default '{}')
returns public.credit_transactions
language plpgsql security definer
set search_path = ''
as $$
declare
  tenant uuid := private.active_tenant_id();
begin
  if tenant is null or private.active_tenant_role() < 'MEMBER' then
    raise exception 'spending credits requires MEMBER or higher in the active tenant' using errcode = '42501';
  end if;
  if p_amount is null or p_amount <= 0 then
    raise exception 'amount must be a positive integer, got %', p_amount using errcode = '22023';
  end if;
  return private.append_credit_entry(tenant, auth.uid(), -p_amount, 'SPEND', p_reason, p_metadata);
end;
$$;
comment on function public.spend_credits(integer, text, jsonb) is
  'Spends the caller''s credits in the active tenant; raises GW001 when the balance is short.';

create or replace function public.grant_credits(
  p_user_id uuid, p_amount integer, p_reason text,
  p_kind public.credit_kind default 'GRANT', p_tenant_id uuid default null, p_metadata jsonb default '{}'
) returns public.credit_transactions
language plpgsql security definer
set search_path = ''
as $$
declare
  is_service boolean := coalesce(auth.role(), '') = 'service_role';
  tenant uuid := coalesce(p_tenant_id, private.active_tenant_id());
begin
  if p_amount is null or p_amount <= 0 then
    raise exception 'amount must be a positive integer, got %', p_amount using errcode = '22023';
  end if;
  if p_kind = 'SPEND' then
    raise exception 'use spend_credits to spend' using errcode = '22023';
  end if;
  if not is_service and (
    tenant is distinct from private.active_tenant_id()
    or private.active_tenant_role() < 'ADMIN'
    or p_kind <> 'GRANT'
  ) then
    raise exception 'only service_role, or an ADMIN of the active tenant granting GRANT credits, may add credits'
      using errcode = '42501';
  end if;
  if not exists (select 1 from public.tenant_users tu where tu.tenant_id = tenant and tu.user_id = p_user_id) then
    raise exception 'user % is not a member of tenant %', p_user_id, tenant using errcode = '22023';
  end if;
  return private.append_credit_entry(tenant, p_user_id, p_amount, p_kind, p_reason, p_metadata);
end;
$$;
comment on function public.grant_credits(uuid, integer, text, public.credit_kind, uuid, jsonb) is
  'Adds credits: service_role for any kind and tenant; an ADMIN or OWNER only GRANT credits to members of the active tenant.';

create or replace function public.credit_balance() returns bigint
language sql stable security definer
set search_path = ''
as $$
  select coalesce((
    select ct.balance_after from public.credit_transactions ct
    where ct.tenant_id = private.active_tenant_id() and ct.user_id = auth.uid()
    order by ct.seq desc limit 1
  ), 0)
$$;
comment on function public.credit_balance() is 'The caller''s balance in the active tenant.';

revoke all on function public.spend_credits(integer, text, jsonb) from public, anon;
revoke all on function public.grant_credits(uuid, integer, text, public.credit_kind, uuid, jsonb) from public, anon;
revoke all on function public.credit_balance() from public, anon;
grant execute on function public.spend_credits(integer, text, jsonb) to authenticated, service_role;
grant execute on function public.grant_credits(uuid, integer, text, public.credit_kind, uuid, jsonb) to authenticated, service_role;
grant execute on function public.credit_balance() to authenticated, service_role;
