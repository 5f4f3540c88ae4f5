-- What the API roles get by default. Supabase (and the compat bootstrap) grant anon and
-- authenticated every privilege on new sequences and functions in public; a client with
-- USAGE on the ledger's sequence could setval it and reorder balances, and a new function
-- would be callable over the Data API before anyone decided it should be. From here on,
-- the API roles hold nothing on sequences, and execute only functions granted to them by
-- name (tests/rls/privilege-matrix.test.ts lists every one).

revoke all on all sequences in schema public from anon, authenticated;
alter default privileges in schema public revoke all on sequences from anon, authenticated;

revoke execute on all functions in schema public from public, anon;
revoke execute on all functions in schema private from public;
revoke execute on procedure private.apply_tenant_content_policies(regclass, text) from public;
-- Global, not per schema: a schema's defaults can only add to the global ones, and functions
-- are executable by PUBLIC globally.
alter default privileges revoke execute on functions from public;
alter default privileges in schema public revoke execute on functions from anon, authenticated;

-- Re-granted by name: what anon may call. (authenticated and service_role keep their grants.)
grant execute on function public.published_post_id(text, text) to anon;
