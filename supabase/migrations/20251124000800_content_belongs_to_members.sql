-- A row of tenant content names a user who is or was a member of that tenant. Every
-- membership is remembered in private.tenant_member_history; content rows reference it
-- with a composite key, so not even service_role can attribute a row to an outsider.
--
-- A removed member's rows stay in the tenant, attributed to them: the team keeps its
-- projects, analyses and posts, the former member loses access to all of them, and the
-- remaining members no longer see the former member's profile (the owner fields read null).
-- Their private conversations stay too, unreadable by anyone until they rejoin.

create table private.tenant_member_history (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  user_id uuid not null references public.users (id) on delete cascade,
  first_joined_at timestamptz not null default now(),
  primary key (tenant_id, user_id)
);
comment on table private.tenant_member_history is
  'Every (tenant, user) that ever had a membership; the target of content rows'' owner keys.';
create index tenant_member_history_user_id_idx on private.tenant_member_history (user_id);
alter table private.tenant_member_history enable row level security;

insert into private.tenant_member_history (tenant_id, user_id, first_joined_at)
select tenant_id, user_id, created_at from public.tenant_users
on conflict do nothing;

create or replace function private.remember_membership() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  insert into private.tenant_member_history (tenant_id, user_id) values (new.tenant_id, new.user_id)
  on conflict do nothing;
  return null;
end;
$$;
create trigger remember_membership after insert on public.tenant_users
  for each row execute function private.remember_membership();

do $$
declare
  target record;
begin
  for target in
    select * from (values
      ('projects', 'user_id'), ('analyses', 'user_id'), ('uploads', 'user_id'), ('posts', 'author_id'),
      ('content_generations', 'user_id'), ('contract_analyses', 'user_id'), ('localization_analyses', 'user_id'),
      ('customer_behavior_analyses', 'user_id'), ('compliance_monitoring', 'user_id'), ('learning_paths', 'user_id'),
      ('conversations', 'user_id'), ('credit_transactions', 'user_id')
    ) as t (tbl, owner_column)
  loop
    execute format(
      'alter table public.%I add constraint %I foreign key (tenant_id, %I)
         references private.tenant_member_history (tenant_id, user_id) on delete cascade',
      target.tbl, target.tbl || '_tenant_member_fkey', target.owner_column);
  end loop;
end
$$;
