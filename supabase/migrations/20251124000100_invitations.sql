-- Joining a tenant takes the invitee's consent. An OWNER or ADMIN invites an email
-- address; whoever holds that address, confirmed, sees the invitation and accepts or
-- declines it. Inviting answers the same whether or not the address belongs to a user,
-- so it reveals nothing, and nobody's profile becomes readable until they accept.
-- Replaces public.add_tenant_member, which added any registered user at once.

-- Supabase's auth.users records when an address was confirmed; the compat copy gains the column.
do $$
begin
  if not exists (
    select 1 from information_schema.columns
    where table_schema = 'auth' and table_name = 'users' and column_name = 'email_confirmed_at'
  ) then
    alter table auth.users add column email_confirmed_at timestamptz;
  end if;
end
$$;

create type public.invitation_status as enum ('PENDING', 'ACCEPTED', 'DECLINED', 'REVOKED');

create table public.tenant_invitations (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  -- The invitee cannot read the tenant before joining, so the invitation carries its name.
  tenant_name text not null,
  email text not null check (email = lower(email) and email ~ '^[^@\s]+@[^@\s]+$' and char_length(email) <= 320),
  role public.tenant_role not null default 'MEMBER',
  invited_by uuid references public.users (id) on delete set null,
  status public.invitation_status not null default 'PENDING',
  expires_at timestamptz not null default now() + interval '7 days',
  responded_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.tenant_invitations is
  'An offer of membership to an email address; it becomes a membership only when the holder of the confirmed address accepts.';
create unique index tenant_invitations_one_pending_idx on public.tenant_invitations (tenant_id, email)
  where status = 'PENDING';
create index tenant_invitations_email_idx on public.tenant_invitations (email) where status = 'PENDING';
create index tenant_invitations_tenant_id_idx on public.tenant_invitations (tenant_id, created_at desc);
create index tenant_invitations_invited_by_idx on public.tenant_invitations (invited_by);

create trigger set_updated_at before update on public.tenant_invitations
  for each row execute function private.set_updated_at();
create trigger record_audit after insert or update or delete on public.tenant_invitations
  for each row execute function private.record_audit();

create or replace function private.caller_confirmed_email() returns text
language sql stable security definer
set search_path = ''
as $$
  select lower(u.email) from auth.users u where u.id = auth.uid() and u.email_confirmed_at is not null
$$;
comment on function private.caller_confirmed_email() is
  'The caller''s email address if its holder confirmed it, else null: invitations match nothing weaker.';
revoke all on function private.caller_confirmed_email() from public;
grant execute on function private.caller_confirmed_email() to authenticated, service_role;

revoke all on public.tenant_invitations from anon, authenticated;
-- anon reads nothing (no policy names it), but an anonymous lookup answers "nothing" rather than failing.
grant select on public.tenant_invitations to anon, authenticated;
grant all on public.tenant_invitations to service_role;
alter table public.tenant_invitations enable row level security;

create policy "Owners and admins can read their tenant's invitations"
  on public.tenant_invitations for select to authenticated
  using (tenant_id = (select private.active_tenant_id()) and (select private.active_tenant_role()) >= 'ADMIN');
create policy "Invitees can read invitations to their confirmed email"
  on public.tenant_invitations for select to authenticated
  using (email = (select private.caller_confirmed_email()));

-- Memberships are now created only by create_tenant and accept_tenant_invitation.
drop policy "Owners and admins can add members, admins below owner" on public.tenant_users;
revoke insert on public.tenant_users from authenticated;
drop function public.add_tenant_member(text, public.tenant_role);

create or replace function public.invite_tenant_member(p_email text, p_role public.tenant_role default 'MEMBER')
returns public.tenant_invitations
language plpgsql security definer
set search_path = ''
as $$
declare
  tenant uuid := private.active_tenant_id();
  caller_role public.tenant_role := private.active_tenant_role();
  address text := lower(trim(p_email));
  invitation public.tenant_invitations;
begin
  if tenant is null or caller_role < 'ADMIN' then
    raise exception 'inviting members requires ADMIN or OWNER in the active tenant' using errcode = '42501';
  end if;
  if p_role = 'OWNER' and caller_role <> 'OWNER' then
    raise exception 'only an OWNER can invite an OWNER' using errcode = '42501';
  end if;
  -- Co-members' emails are already readable by the caller, so this reveals nothing new.
  if exists (
    select 1 from public.tenant_users tu join public.users u on u.id = tu.user_id
    where tu.tenant_id = tenant and lower(u.email) = address
  ) then
    raise exception 'a member of this tenant already has the email %', address using errcode = '23505';
  end if;
  if (select count(*) from public.tenant_invitations i where i.tenant_id = tenant and i.status = 'PENDING') >= 100 then
    raise exception 'a tenant may have at most 100 pending invitations' using errcode = 'GW005';
  end if;
  insert into public.tenant_invitations (tenant_id, tenant_name, email, role, invited_by)
  select tenant, t.name, address, p_role, auth.uid() from public.tenants t where t.id = tenant
  returning * into invitation;
  return invitation;
end;
$$;
comment on function public.invite_tenant_member(text, public.tenant_role) is
  'Invites an email address to the active tenant (ADMIN and up; OWNER role only by an OWNER). Same answer for any address.';

-- The invitation the caller may answer: pending, addressed to their confirmed email, locked.
create or replace function private.pending_invitation_for_caller(p_invitation_id uuid)
returns public.tenant_invitations
language plpgsql security definer
set search_path = ''
as $$
declare
  address text := private.caller_confirmed_email();
  invitation public.tenant_invitations;
begin
  if auth.uid() is null or address is null then
    raise exception 'answering an invitation requires a signed-in user with a confirmed email' using errcode = '42501';
  end if;
  select * into invitation from public.tenant_invitations i
  where i.id = p_invitation_id and i.status = 'PENDING' and i.email = address and i.expires_at > now()
  for update;
  if invitation.id is null then
    raise exception 'no pending invitation % for your confirmed email', p_invitation_id using errcode = 'P0002';
  end if;
  return invitation;
end;
$$;
revoke all on function private.pending_invitation_for_caller(uuid) from public;

create or replace function public.accept_tenant_invitation(p_invitation_id uuid)
returns public.tenant_users
language plpgsql security definer
set search_path = ''
as $$
declare
  invitation public.tenant_invitations := private.pending_invitation_for_caller(p_invitation_id);
  membership public.tenant_users;
begin
  insert into public.tenant_users (tenant_id, user_id, role)
  values (invitation.tenant_id, auth.uid(), invitation.role)
  returning * into membership;
  update public.tenant_invitations set status = 'ACCEPTED', responded_at = now() where id = invitation.id;
  return membership;
end;
$$;
comment on function public.accept_tenant_invitation(uuid) is
  'Turns a pending invitation to the caller''s confirmed email into a membership with the invited role.';

create or replace function public.decline_tenant_invitation(p_invitation_id uuid)
returns public.tenant_invitations
language plpgsql security definer
set search_path = ''
as $$
declare
  invitation public.tenant_invitations := private.pending_invitation_for_caller(p_invitation_id);
begin
  update public.tenant_invitations set status = 'DECLINED', responded_at = now()
  where id = invitation.id returning * into invitation;
  return invitation;
end;
$$;
comment on function public.decline_tenant_invitation(uuid) is 'Declines a pending invitation to the caller''s confirmed email.';

create or replace function public.revoke_tenant_invitation(p_invitation_id uuid)
returns public.tenant_invitations
language plpgsql security definer
set search_path = ''
as $$
declare
  invitation public.tenant_invitations;
begin
  if private.active_tenant_role() < 'ADMIN' or private.active_tenant_role() is null then
    raise exception 'revoking invitations requires ADMIN or OWNER in the active tenant' using errcode = '42501';
  end if;
  update public.tenant_invitations i set status = 'REVOKED', responded_at = now()
  where i.id = p_invitation_id and i.tenant_id = private.active_tenant_id() and i.status = 'PENDING'
  returning * into invitation;
  if invitation.id is null then
    raise exception 'no pending invitation % in the active tenant', p_invitation_id using errcode = 'P0002';
  end if;
  return invitation;
end;
$$;
comment on function public.revoke_tenant_invitation(uuid) is 'Withdraws a pending invitation of the active tenant (ADMIN and up).';

revoke all on function public.invite_tenant_member(text, public.tenant_role) from public, anon;
revoke all on function public.accept_tenant_invitation(uuid) from public, anon;
revoke all on function public.decline_tenant_invitation(uuid) from public, anon;
revoke all on function public.revoke_tenant_invitation(uuid) from public, anon;
grant execute on function public.invite_tenant_member(text, public.tenant_role) to authenticated, service_role;
grant execute on function public.accept_tenant_invitation(uuid) to authenticated, service_role;
grant execute on function public.decline_tenant_invitation(uuid) to authenticated, service_role;
grant execute on function public.revoke_tenant_invitation(uuid) to authenticated, service_role;
