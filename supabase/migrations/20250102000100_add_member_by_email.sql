-- Adding a member by email. The caller cannot read the profile of someone who shares no
-- tenant with them, so the lookup happens inside a function that checks the caller's role.

create or replace function public.add_tenant_member(p_email text, p_role public.tenant_role default 'MEMBER')
returns public.tenant_users
language plpgsql security definer
set search_path = ''
as $$
declare
  tenant uuid := private.active_tenant_id();
  caller_role public.tenant_role := private.active_tenant_role();
  invitee uuid;
  membership public.tenant_users;
begin
  if tenant is null or caller_role < 'ADMIN' then
    raise exception 'adding members requires ADMIN or OWNER in the active tenant' using errcode = '42501';
  end if;
  if p_role = 'OWNER' and caller_role <> 'OWNER' then
    raise exception 'only an OWNER can make someone OWNER' using errcode = '42501';
  end if;
  select u.id into invitee from public.users u where lower(u.email) = lower(trim(p_email));
  if invitee is null then
    raise exception 'no user has the email %', p_email using errcode = 'P0002';
  end if;
  insert into public.tenant_users (tenant_id, user_id, role) values (tenant, invitee, p_role)
  returning * into membership;
  return membership;
end;
$$;
comment on function public.add_tenant_member(text, public.tenant_role) is
  'Adds the user with this email to the active tenant; ADMIN and OWNER only, OWNER role only by an OWNER.';
revoke all on function public.add_tenant_member(text, public.tenant_role) from public, anon;
grant execute on function public.add_tenant_member(text, public.tenant_role) to authenticated;
