-- Anonymous callers may read every table and find only what a policy gives them (published
-- posts). Without the grant, an anonymous lookup such as node(id) fails with "permission
-- denied", which aborts the request's transaction instead of answering "nothing here".
-- No policy names anon except on posts, so these grants expose no rows.

grant select on
  public.users, public.tenants, public.tenant_users, public.tenant_settings,
  public.subscriptions, public.subscription_usage, public.projects, public.analyses,
  public.conversations, public.messages, public.uploads, public.credit_transactions,
  public.content_generations, public.contract_analyses, public.localization_analyses,
  public.customer_behavior_analyses, public.compliance_monitoring, public.learning_paths,
  public.audit_logs
to anon;

-- The hash stays ungranted, as for authenticated.
grant select (id, tenant_id, user_id, name, prefix, last_used_at, expires_at, revoked_at, created_at, updated_at)
  on public.api_keys to anon;
