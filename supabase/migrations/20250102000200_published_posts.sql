-- Reading a published post by its tenant's slug and its own. Anonymous callers may read
-- published posts but not tenants, so the slug lookup runs as the owner and hands back only
-- the id of a published post; the caller then reads the post itself under its own policies.

create or replace function public.published_post_id(p_tenant_slug text, p_slug text) returns uuid
language sql stable security definer
set search_path = ''
as $$
  -- Drafts and unknown tenants both give null, so the answer never reveals that a draft exists.
  select p.id from public.posts p
  join public.tenants t on t.id = p.tenant_id
  where t.slug = p_tenant_slug and p.slug = p_slug and p.published
$$;
comment on function public.published_post_id(text, text) is
  'The id of the published post with slug p_slug in the tenant with slug p_tenant_slug, else null; never a draft.';
revoke all on function public.published_post_id(text, text) from public;
grant execute on function public.published_post_id(text, text) to anon, authenticated, service_role;
