-- Extensions and the non-exposed `private` schema that holds RLS helpers.
-- `private` is not in the API's exposed schemas (supabase/config.toml), so its
-- functions can be used by policies but never called over the Data API.

create extension if not exists vector with schema extensions;

create schema if not exists private;
revoke all on schema private from public;
grant usage on schema private to anon, authenticated, service_role;

create or replace function private.set_updated_at() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end;
$$;

comment on function private.set_updated_at() is
  'Keeps updated_at true on every UPDATE, whatever the client sends.';
