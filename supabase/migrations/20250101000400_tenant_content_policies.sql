-- One definition of the policy family shared by every table of tenant content
-- (projects, analyses, uploads, posts, content generations, business solutions),
-- so the rule is reviewed once and applied identically:
--   members of the active tenant read; MEMBER and up insert as themselves;
--   the creator (MEMBER and up) or an ADMIN and up update and delete; VIEWER only reads.

create or replace procedure private.apply_tenant_content_policies(tbl regclass, owner_column text default 'user_id')
language plpgsql
set search_path = ''
as $$
declare
  is_member_writer text := '(select private.active_tenant_role()) >= ''MEMBER''';
  is_admin text := '(select private.active_tenant_role()) >= ''ADMIN''';
  in_tenant text := 'tenant_id = (select private.active_tenant_id())';
  is_creator text := format('%I = (select auth.uid())', owner_column);
begin
  execute format('alter table %s enable row level security', tbl);
  execute format('revoke all on %s from anon, authenticated', tbl);
  execute format('grant select, insert, update, delete on %s to authenticated', tbl);
  execute format('grant all on %s to service_role', tbl);

  execute format(
    'create policy "Members can read their tenant''s rows" on %s for select to authenticated using (%s)',
    tbl, in_tenant);
  execute format(
    'create policy "Members can create rows as themselves" on %s for insert to authenticated with check (%s and %s and %s)',
    tbl, in_tenant, is_creator, is_member_writer);
  execute format(
    'create policy "Creators and admins can update rows" on %s for update to authenticated using (%s and ((%s and %s) or %s)) with check (%s and ((%s and %s) or %s))',
    tbl, in_tenant, is_creator, is_member_writer, is_admin, in_tenant, is_creator, is_member_writer, is_admin);
  execute format(
    'create policy "Creators and admins can delete rows" on %s for delete to authenticated using (%s and ((%s and %s) or %s))',
    tbl, in_tenant, is_creator, is_member_writer, is_admin);
end;
$$;
comment on procedure private.apply_tenant_content_policies(regclass, text) is
  'Enables RLS on a tenant content table and creates its four standard policies; owner_column names the creator column.';
