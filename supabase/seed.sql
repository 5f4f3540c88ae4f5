-- Deterministic demo data.
--
-- Loaded into an empty database only: by `supabase db reset` after the migrations
-- (as the `postgres` role), and by the gateway on PGlite / plain PostgreSQL (as the
-- database owner, in one transaction). Table owners bypass RLS, so no claims are
-- set; the audit triggers record every insert (actor_id null, actor_role = the
-- session user).
--
-- Nothing below depends on random values or the clock: every id is fixed and every
-- timestamp is an offset from the "enhancement" moment 2025-09-08 07:07:44+00 (T0).
-- Dates that end up inside jsonb are computed from date literals, never from a
-- timestamptz cast, so the session's TimeZone cannot change them.
-- The exceptions are columns the schema fills itself and the seed cannot set:
-- credit_transactions.id/created_at (written by private.append_credit_entry),
-- public.users.updated_at (set_updated_at fires on the role update) and the
-- audit_logs rows.
--
-- Fixed ids: version-4-shaped UUIDs whose first group names the kind of row and
-- whose last group is the row's number, in decimal digits:
--
--   10000000-0000-4000-8000-00000000000N   tenants                  1..3
--   20000000-0000-4000-8000-00000000000N   users (auth + profile)   1..5
--   30000000-0000-4000-8000-00000000000N   tenant_users             1..5
--   40000000-0000-4000-8000-00000000000N   tenant_settings          1..7
--   50000000-0000-4000-8000-00000000000N   subscriptions            1..4
--   51000000-0000-4000-8000-00000000000N   subscription_usage       1..6
--   60000000-0000-4000-8000-0000000000NN   projects                 1..37
--   70000000-0000-4000-8000-0000000000NN   analyses                 1..28
--   80000000-0000-4000-8000-0000000000NN   conversations            1..22
--   81000000-0000-4000-8000-CCCCCCPPPPPP   messages: conversation number (6 digits), then
--                                          position in it (6 digits): ...-000007000003
--   90000000-0000-4000-8000-0000000000NN   posts                    1..28
--   a0000000-0000-4000-8000-00000000000N   content_generations      1..3
--   b0000000-0000-4000-8000-00000000000N   uploads                  1..2
--   c1000000-0000-4000-8000-000000000001   contract_analyses
--   c4000000-0000-4000-8000-000000000001   compliance_monitoring
--   c5000000-0000-4000-8000-000000000001   learning_paths
--
-- Tenants, users and memberships:
--
--   tenant 1  Default Organization      ENTERPRISE  user 1 Admin User (OWNER), user 3 Test User (MEMBER)
--   tenant 2  Enterprise Solutions Inc  ENTERPRISE  user 2 Enterprise Manager (OWNER), user 5 Security Analyst (ADMIN)
--   tenant 3  Startup Innovations       PRO         user 4 AI Specialist (OWNER)
--
-- Rows of tenant content are spread over tenants by number (projects 1-15, 16-29,
-- 30-37; analyses 1-12, 13-22, 23-28; conversations 1-9, 10-17, 18-22; posts 1-12,
-- 13-22, 23-28) and their user is always picked from the tenant's own memberships.

-- "T0 - 200 days" is calendar arithmetic in the session's time zone and shifts by
-- an hour across a daylight-saving change, so do it in UTC. SET LOCAL ends with the
-- transaction the seed runs in (a Supabase database is on UTC already).
set local time zone 'UTC';


-- Users ---------------------------------------------------------------------
-- Only columns that exist both in Supabase's auth.users and in the compat
-- bootstrap's. raw_app_meta_data.tenant_id is the user's active tenant.
-- The create_profile_for_new_user trigger creates each public.users profile.

insert into auth.users (id, email, raw_app_meta_data, raw_user_meta_data, created_at, email_confirmed_at) values
  ('20000000-0000-4000-8000-000000000001', 'admin@example.com',
   '{"tenant_id": "10000000-0000-4000-8000-000000000001"}',
   '{"name": "Admin User", "avatar_url": "https://avatars.example.com/admin-user.png"}',
   timestamptz '2025-09-08 07:07:44+00' - interval '200 days',
   timestamptz '2025-09-08 07:07:44+00' - interval '200 days' + interval '10 minutes'),
  ('20000000-0000-4000-8000-000000000002', 'manager@example.com',
   '{"tenant_id": "10000000-0000-4000-8000-000000000002"}',
   '{"name": "Enterprise Manager", "avatar_url": "https://avatars.example.com/enterprise-manager.png"}',
   timestamptz '2025-09-08 07:07:44+00' - interval '150 days',
   timestamptz '2025-09-08 07:07:44+00' - interval '150 days' + interval '10 minutes'),
  ('20000000-0000-4000-8000-000000000003', 'test@example.com',
   '{"tenant_id": "10000000-0000-4000-8000-000000000001"}',
   '{"name": "Test User", "avatar_url": "https://avatars.example.com/test-user.png"}',
   timestamptz '2025-09-08 07:07:44+00' - interval '190 days',
   timestamptz '2025-09-08 07:07:44+00' - interval '190 days' + interval '10 minutes'),
  ('20000000-0000-4000-8000-000000000004', 'ai.specialist@example.com',
   '{"tenant_id": "10000000-0000-4000-8000-000000000003"}',
   '{"name": "AI Specialist", "avatar_url": "https://avatars.example.com/ai-specialist.png"}',
   timestamptz '2025-09-08 07:07:44+00' - interval '90 days',
   timestamptz '2025-09-08 07:07:44+00' - interval '90 days' + interval '10 minutes'),
  ('20000000-0000-4000-8000-000000000005', 'security@example.com',
   '{"tenant_id": "10000000-0000-4000-8000-000000000002"}',
   '{"name": "Security Analyst", "avatar_url": "https://avatars.example.com/security-analyst.png"}',
   timestamptz '2025-09-08 07:07:44+00' - interval '120 days',
   timestamptz '2025-09-08 07:07:44+00' - interval '120 days' + interval '10 minutes');

-- Platform role and activity; created_at aligned with the identity's.
update public.users u
set role = v.role::public.user_role,
    last_login_at = timestamptz '2025-09-08 07:07:44+00' - v.since_login,
    created_at = a.created_at
from (values
  ('20000000-0000-4000-8000-000000000001'::uuid, 'ADMIN',     interval '15 minutes'),
  ('20000000-0000-4000-8000-000000000002'::uuid, 'MODERATOR', interval '3 hours'),
  ('20000000-0000-4000-8000-000000000003'::uuid, 'USER',      interval '2 days'),
  ('20000000-0000-4000-8000-000000000004'::uuid, 'DEVELOPER', interval '40 minutes'),
  ('20000000-0000-4000-8000-000000000005'::uuid, 'USER',      interval '6 hours')
) as v (id, role, since_login)
join auth.users a on a.id = v.id
where u.id = v.id;


-- Tenants, memberships, settings ---------------------------------------------
-- Quotas by plan: ENTERPRISE 100 users, 1,000 projects, 1 TiB, 1M API calls a
-- month; PRO 25 users, 100 projects, 100 GiB, 100k API calls.

insert into public.tenants
  (id, name, slug, plan, status, max_users, max_projects, max_storage_bytes, max_api_calls_per_month, created_at, updated_at)
values
  ('10000000-0000-4000-8000-000000000001', 'Default Organization', 'default-organization', 'ENTERPRISE', 'ACTIVE',
   100, 1000, 1099511627776, 1000000,
   timestamptz '2025-09-08 07:07:44+00' - interval '200 days', timestamptz '2025-09-08 07:07:44+00' - interval '200 days'),
  ('10000000-0000-4000-8000-000000000002', 'Enterprise Solutions Inc', 'enterprise-solutions', 'ENTERPRISE', 'ACTIVE',
   100, 1000, 1099511627776, 1000000,
   timestamptz '2025-09-08 07:07:44+00' - interval '150 days', timestamptz '2025-09-08 07:07:44+00' - interval '150 days'),
  ('10000000-0000-4000-8000-000000000003', 'Startup Innovations', 'startup-innovations', 'PRO', 'ACTIVE',
   25, 100, 107374182400, 100000,
   timestamptz '2025-09-08 07:07:44+00' - interval '90 days', timestamptz '2025-09-08 07:07:44+00' - interval '90 days');

-- Each membership dates from the later of its user and its tenant.
insert into public.tenant_users (id, tenant_id, user_id, role, created_at, updated_at)
select v.id, v.tenant_id, v.user_id, v.role::public.tenant_role,
       greatest(t.created_at, a.created_at), greatest(t.created_at, a.created_at)
from (values
  ('30000000-0000-4000-8000-000000000001'::uuid, '10000000-0000-4000-8000-000000000001'::uuid,
   '20000000-0000-4000-8000-000000000001'::uuid, 'OWNER'),   -- Admin User
  ('30000000-0000-4000-8000-000000000002'::uuid, '10000000-0000-4000-8000-000000000001'::uuid,
   '20000000-0000-4000-8000-000000000003'::uuid, 'MEMBER'),  -- Test User
  ('30000000-0000-4000-8000-000000000003'::uuid, '10000000-0000-4000-8000-000000000002'::uuid,
   '20000000-0000-4000-8000-000000000002'::uuid, 'OWNER'),   -- Enterprise Manager
  ('30000000-0000-4000-8000-000000000004'::uuid, '10000000-0000-4000-8000-000000000002'::uuid,
   '20000000-0000-4000-8000-000000000005'::uuid, 'ADMIN'),   -- Security Analyst
  ('30000000-0000-4000-8000-000000000005'::uuid, '10000000-0000-4000-8000-000000000003'::uuid,
   '20000000-0000-4000-8000-000000000004'::uuid, 'OWNER')    -- AI Specialist
) as v (id, tenant_id, user_id, role)
join public.tenants t on t.id = v.tenant_id
join auth.users a on a.id = v.user_id
order by v.id;

insert into public.tenant_settings (id, tenant_id, key, value, created_at, updated_at)
select v.id, v.tenant_id, v.key, v.value::jsonb, t.created_at + interval '1 hour', t.created_at + interval '1 hour'
from (values
  ('40000000-0000-4000-8000-000000000001'::uuid, '10000000-0000-4000-8000-000000000001'::uuid,
   'security.mfa_required', 'true'),
  ('40000000-0000-4000-8000-000000000002'::uuid, '10000000-0000-4000-8000-000000000001'::uuid,
   'ai.default_model', '"gpt-4o"'),
  ('40000000-0000-4000-8000-000000000003'::uuid, '10000000-0000-4000-8000-000000000001'::uuid,
   'branding.theme', '{"mode": "dark", "primaryColor": "#4f46e5", "logoUrl": "https://cdn.example.com/default-org/logo.svg"}'),
  ('40000000-0000-4000-8000-000000000004'::uuid, '10000000-0000-4000-8000-000000000002'::uuid,
   'security.mfa_required', 'true'),
  ('40000000-0000-4000-8000-000000000005'::uuid, '10000000-0000-4000-8000-000000000002'::uuid,
   'security.session_timeout_minutes', '30'),
  ('40000000-0000-4000-8000-000000000006'::uuid, '10000000-0000-4000-8000-000000000002'::uuid,
   'compliance.frameworks', '["SOC2", "ISO27001", "GDPR"]'),
  ('40000000-0000-4000-8000-000000000007'::uuid, '10000000-0000-4000-8000-000000000003'::uuid,
   'ai.default_model', '"gpt-4o-mini"')
) as v (id, tenant_id, key, value)
join public.tenants t on t.id = v.tenant_id
order by v.id;


-- Billing --------------------------------------------------------------------
-- One current (ACTIVE) subscription per tenant, plus Startup Innovations' expired
-- BASIC period from before its upgrade to PRO (history rows are outside the
-- one-current-per-tenant unique index).

insert into public.subscriptions
  (id, tenant_id, plan, status, current_period_start, current_period_end, cancel_at_period_end, metadata, created_at, updated_at)
values
  ('50000000-0000-4000-8000-000000000001', '10000000-0000-4000-8000-000000000001', 'ENTERPRISE', 'ACTIVE',
   timestamptz '2025-09-08 07:07:44+00' - interval '200 days', timestamptz '2025-09-08 07:07:44+00' + interval '165 days', false,
   '{"billingCycle": "yearly", "seats": 100, "paymentMethod": "invoice"}',
   timestamptz '2025-09-08 07:07:44+00' - interval '200 days', timestamptz '2025-09-08 07:07:44+00' - interval '200 days'),
  ('50000000-0000-4000-8000-000000000002', '10000000-0000-4000-8000-000000000002', 'ENTERPRISE', 'ACTIVE',
   timestamptz '2025-09-08 07:07:44+00' - interval '150 days', timestamptz '2025-09-08 07:07:44+00' + interval '215 days', false,
   '{"billingCycle": "yearly", "seats": 100, "paymentMethod": "invoice"}',
   timestamptz '2025-09-08 07:07:44+00' - interval '150 days', timestamptz '2025-09-08 07:07:44+00' - interval '150 days'),
  ('50000000-0000-4000-8000-000000000003', '10000000-0000-4000-8000-000000000003', 'BASIC', 'EXPIRED',
   timestamptz '2025-09-08 07:07:44+00' - interval '90 days', timestamptz '2025-09-08 07:07:44+00' - interval '30 days', false,
   '{"billingCycle": "monthly", "seats": 5, "paymentMethod": "card", "replacedBy": "PRO"}',
   timestamptz '2025-09-08 07:07:44+00' - interval '90 days', timestamptz '2025-09-08 07:07:44+00' - interval '30 days'),
  ('50000000-0000-4000-8000-000000000004', '10000000-0000-4000-8000-000000000003', 'PRO', 'ACTIVE',
   timestamptz '2025-09-08 07:07:44+00' - interval '30 days', timestamptz '2025-09-08 07:07:44+00' + interval '335 days', false,
   '{"billingCycle": "yearly", "seats": 25, "paymentMethod": "card", "upgradedFrom": "BASIC"}',
   timestamptz '2025-09-08 07:07:44+00' - interval '30 days', timestamptz '2025-09-08 07:07:44+00' - interval '30 days');

-- Metered usage of the current subscriptions for September 2025.
insert into public.subscription_usage (id, tenant_id, subscription_id, metric, period, value, created_at, updated_at)
select v.id, s.tenant_id, s.id, v.metric, '2025-09', v.value,
       timestamptz '2025-09-08 07:07:44+00' - interval '7 days', timestamptz '2025-09-08 07:07:44+00'
from (values
  ('51000000-0000-4000-8000-000000000001'::uuid, '50000000-0000-4000-8000-000000000001'::uuid, 'api_calls', 48213),
  ('51000000-0000-4000-8000-000000000002'::uuid, '50000000-0000-4000-8000-000000000001'::uuid, 'storage_bytes', 21474836480),
  ('51000000-0000-4000-8000-000000000003'::uuid, '50000000-0000-4000-8000-000000000002'::uuid, 'api_calls', 91577),
  ('51000000-0000-4000-8000-000000000004'::uuid, '50000000-0000-4000-8000-000000000002'::uuid, 'storage_bytes', 64424509440),
  ('51000000-0000-4000-8000-000000000005'::uuid, '50000000-0000-4000-8000-000000000004'::uuid, 'api_calls', 12640),
  ('51000000-0000-4000-8000-000000000006'::uuid, '50000000-0000-4000-8000-000000000004'::uuid, 'ai.tokens', 3150420)
) as v (id, subscription_id, metric, value)
join public.subscriptions s on s.id = v.subscription_id
order by v.id;


-- Projects (37) --------------------------------------------------------------
-- Names combine five themes with eight workstreams (theme = n mod 5, workstream =
-- n div 5), so all 37 differ. k is the project's position within its tenant and
-- spaces creation dates out over the tenant's lifetime; the owner cycles through
-- the tenant's members.

insert into public.projects (id, tenant_id, user_id, name, description, status, metadata, created_at, updated_at)
select
  format('60000000-0000-4000-8000-%s', lpad(p.n::text, 12, '0'))::uuid,
  p.tenant_id,
  m.ids[1 + p.n % cardinality(m.ids)],
  format('%s: %s', theme.name, workstream.name),
  format('%s workstream of the %s programme. %s', workstream.name, lower(theme.name), theme.summary),
  case
    when p.n % 7 = 0 then 'COMPLETED'
    when p.n % 11 = 0 then 'ARCHIVED'
    when p.n % 13 = 0 then 'SUSPENDED'
    else 'ACTIVE'
  end::public.project_status,
  jsonb_build_object(
    'budget', 50000 + (p.n * 7919 % 20) * 25000,
    'teamSize', 3 + p.n % 12,
    'securityLevel', (array['STANDARD', 'HIGH', 'CRITICAL'])[1 + p.n % 3],
    'compliance', theme.compliance,
    'timeline', jsonb_build_object(
      'start', to_char(date '2025-09-08' - p.age_days, 'YYYY-MM-DD'),
      'end', to_char(date '2025-09-08' - p.age_days + 90 + (p.n * 37 % 9) * 30, 'YYYY-MM-DD')
    )
  ),
  timestamptz '2025-09-08 07:07:44+00' - p.age_days * interval '1 day',
  timestamptz '2025-09-08 07:07:44+00' - p.age_days * interval '1 day' + p.age_days / 2 * interval '1 day'
from (
  select n, tenant_id,
         -- Tenant 1 is 200 days old, tenant 2 150, tenant 3 90: start 10 days in, then every 8-12 days.
         case when n <= 15 then 190 - (n - 1) * 12
              when n <= 29 then 140 - (n - 16) * 9
              else 80 - (n - 30) * 10 end as age_days
  from (
    select n,
           format('10000000-0000-4000-8000-%s',
                  lpad((case when n <= 15 then 1 when n <= 29 then 2 else 3 end)::text, 12, '0'))::uuid as tenant_id
    from generate_series(1, 37) as n
  ) as numbered
) as p
join (values
  (0, 'Core Platform Development', 'Builds and runs the shared services every product depends on.',
   '["SOC2", "ISO27001"]'::jsonb),
  (1, 'Security Initiatives', 'Raises the security baseline across identity, data and infrastructure.',
   '["SOC2", "NIST-800-53"]'::jsonb),
  (2, 'Research & Development', 'Explores new models and techniques before they reach production.',
   '["GDPR"]'::jsonb),
  (3, 'Integration Frameworks', 'Connects the platform to partner systems through stable, versioned interfaces.',
   '["SOC2", "GDPR"]'::jsonb),
  (4, 'Quantum Security Research', 'Prepares cryptography and key management for post-quantum threats.',
   '["NIST-800-53", "FIPS-140-3"]'::jsonb)
) as theme (i, name, summary, compliance) on theme.i = p.n % 5
join (values
  (0, 'Foundations'), (1, 'Scale-Out'), (2, 'Hardening'), (3, 'Automation'),
  (4, 'Observability'), (5, 'Compliance Readiness'), (6, 'Edge Deployment'), (7, 'Next Generation')
) as workstream (i, name) on workstream.i = p.n / 5
cross join lateral (
  select array_agg(tu.user_id order by tu.user_id) as ids
  from public.tenant_users tu where tu.tenant_id = p.tenant_id
) as m
order by p.n;


-- Analyses (28) --------------------------------------------------------------
-- Each analysis belongs to a project of its own tenant (cycling through the
-- tenant's projects) and to a member of that tenant. 20 COMPLETED with a result,
-- 3 PROCESSING, 3 FAILED, 2 PENDING. Statuses are inserted directly: the status
-- guard trigger only fires on UPDATE.

insert into public.analyses
  (id, tenant_id, user_id, project_id, type, input, result, confidence, status, model, processing_time_ms, metadata,
   created_at, updated_at)
select
  format('70000000-0000-4000-8000-%s', lpad(a.n::text, 12, '0'))::uuid,
  a.tenant_id,
  m.ids[1 + (a.n + 1) % cardinality(m.ids)],
  pr.id,
  a.type::public.analysis_type,
  format('%s of "%s": review the latest architecture notes, incident history and metrics, '
         'and report findings with a severity and a recommended next step for each.', focus.name, pr.name),
  case when a.status = 'COMPLETED' then jsonb_build_object(
    'summary', format('%s completed for %s.', focus.name, pr.name),
    'score', 60 + a.n * 13 % 40,
    'riskLevel', (array['LOW', 'MEDIUM', 'HIGH'])[1 + a.n % 3],
    'findings', focus.findings,
    'recommendations', focus.recommendations
  ) end,
  case when a.status = 'COMPLETED' then round((0.78 + (a.n * 7 % 20) / 100.0)::numeric, 2) end,
  a.status::public.analysis_status,
  (array['gpt-4o', 'claude-3-5-sonnet', 'gpt-4o-mini'])[1 + a.n % 3],
  case when a.status in ('COMPLETED', 'FAILED') then 1200 + a.n * 337 % 9000 end,
  case when a.status = 'FAILED'
       then jsonb_build_object('focus', focus.name, 'error', 'The model provider timed out after 3 retries.')
       else jsonb_build_object('focus', focus.name) end,
  timestamptz '2025-09-08 07:07:44+00' - (30 - a.n) * interval '1 day',
  timestamptz '2025-09-08 07:07:44+00' - (30 - a.n) * interval '1 day' + interval '5 minutes'
from (
  select n,
         format('10000000-0000-4000-8000-%s',
                lpad((case when n <= 12 then 1 when n <= 22 then 2 else 3 end)::text, 12, '0'))::uuid as tenant_id,
         case when n % 10 = 4 then 'PROCESSING'
              when n % 10 = 7 then 'FAILED'
              when n % 10 = 9 then 'PENDING'
              else 'COMPLETED' end as status,
         -- Mostly the three kinds the demo is about, with a code and a sentiment analysis.
         case when n = 11 then 'CODE_ANALYSIS'
              when n = 25 then 'SENTIMENT_ANALYSIS'
              else (array['MULTIMODAL_ANALYSIS', 'DATA_ANALYSIS', 'TEXT_ANALYSIS'])[1 + n % 3] end as type
  from generate_series(1, 28) as n
) as a
join (values
  (0, 'Security vulnerability assessment',
   '["Two services accept TLS 1.1", "Dependency with a known high-severity CVE", "Admin endpoints lack rate limiting"]'::jsonb,
   '["Enforce TLS 1.2+", "Upgrade the affected dependency", "Add rate limits to admin routes"]'::jsonb),
  (1, 'Performance optimization',
   '["p95 latency dominated by N+1 queries", "Cache hit rate below 60%", "Oversized JSON payloads"]'::jsonb,
   '["Batch the related-record lookups", "Cache tenant settings per request", "Paginate list responses"]'::jsonb),
  (2, 'Quantum threat analysis',
   '["RSA-2048 used for long-lived signatures", "No crypto inventory for partner integrations"]'::jsonb,
   '["Build a cryptographic inventory", "Pilot hybrid ML-KEM key exchange", "Shorten key lifetimes"]'::jsonb),
  (3, 'Compliance validation',
   '["Access reviews overdue for two systems", "Retention policy not applied to logs"]'::jsonb,
   '["Schedule quarterly access reviews", "Apply the 400-day log retention policy"]'::jsonb)
) as focus (i, name, findings, recommendations) on focus.i = a.n % 4
cross join lateral (
  select p.id, p.name from public.projects p
  where p.tenant_id = a.tenant_id
  order by p.id
  offset a.n % (select count(*) from public.projects c where c.tenant_id = a.tenant_id)
  limit 1
) as pr
cross join lateral (
  select array_agg(tu.user_id order by tu.user_id) as ids
  from public.tenant_users tu where tu.tenant_id = a.tenant_id
) as m
order by a.n;


-- Conversations (22) and their messages --------------------------------------

insert into public.conversations (id, tenant_id, user_id, title, is_active, metadata, created_at, updated_at)
select
  format('80000000-0000-4000-8000-%s', lpad(c.n::text, 12, '0'))::uuid,
  c.tenant_id,
  m.ids[1 + c.n % cardinality(m.ids)],
  c.title,
  c.n % 6 <> 0,  -- every sixth conversation is closed
  jsonb_build_object(
    'model', (array['gpt-4o', 'claude-3-5-sonnet', 'gpt-4o-mini'])[1 + c.n % 3],
    'securityLevel', (array['STANDARD', 'HIGH', 'CRITICAL'])[1 + c.n % 3],
    'encrypted', true
  ),
  timestamptz '2025-09-08 07:07:44+00' - (25 - c.n) * interval '1 day',
  -- The last message is written (2 + n mod 3) minutes after the conversation starts.
  timestamptz '2025-09-08 07:07:44+00' - (25 - c.n) * interval '1 day' + (2 + c.n % 3) * interval '1 minute'
from (
  select v.n, v.title,
         format('10000000-0000-4000-8000-%s',
                lpad((case when v.n <= 9 then 1 when v.n <= 17 then 2 else 3 end)::text, 12, '0'))::uuid as tenant_id
  from (values
    (1, 'Enterprise strategy planning for FY2026'),
    (2, 'Security protocol implementation review'),
    (3, 'Neural network optimization techniques'),
    (4, 'AI model integration with the core platform'),
    (5, 'Onboarding checklist for new workspace members'),
    (6, 'Quarterly roadmap prioritisation'),
    (7, 'Prompt engineering guidelines'),
    (8, 'Data retention policy questions'),
    (9, 'Incident postmortem summary'),
    (10, 'Zero-trust architecture rollout plan'),
    (11, 'SOC 2 evidence collection'),
    (12, 'Vendor risk assessment workflow'),
    (13, 'Post-quantum cryptography migration'),
    (14, 'Enterprise SSO configuration'),
    (15, 'Threat model for the partner API'),
    (16, 'Security awareness training outline'),
    (17, 'Executive briefing on AI governance'),
    (18, 'Go-to-market strategy for the beta'),
    (19, 'Fine-tuning a small language model'),
    (20, 'Pricing page experiment ideas'),
    (21, 'Investor update narrative'),
    (22, 'Reducing inference latency')
  ) as v (n, title)
) as c
cross join lateral (
  select array_agg(tu.user_id order by tu.user_id) as ids
  from public.tenant_users tu where tu.tenant_id = c.tenant_id
) as m
order by c.n;

-- Conversation n gets one of three shapes by n mod 3:
--   0: USER, ASSISTANT                      (2 messages)
--   1: SYSTEM, USER, ASSISTANT              (3 messages)
--   2: USER, ASSISTANT, USER, ASSISTANT     (4 messages)
-- %1$s in a template is the conversation's title, %2$s its tenant's name.
insert into public.messages (id, tenant_id, conversation_id, role, content, metadata, created_at, updated_at)
select
  format('81000000-0000-4000-8000-%s%s', lpad(c.n::text, 6, '0'), lpad(t.pos::text, 6, '0'))::uuid,
  c.tenant_id,
  c.id,
  t.role::public.message_role,
  format(t.template, c.title, tn.name),
  case when t.role = 'ASSISTANT'
       then jsonb_build_object('model', c.metadata ->> 'model', 'tokens', 180 + c.n * 23 % 400 + t.pos * 40)
       else '{}'::jsonb end,
  c.created_at + t.pos * interval '1 minute',
  c.created_at + t.pos * interval '1 minute'
from (
  select cv.*, right(cv.id::text, 12)::int as n from public.conversations cv
) as c
join public.tenants tn on tn.id = c.tenant_id
join (values
  (0, 1, 'USER', 'Can you help me with this: %1$s? I need a short plan I can share with the team.'),
  (0, 2, 'ASSISTANT', 'Here is a starting plan for "%1$s": 1) agree on the goal and owner, '
                      '2) list constraints and open questions, 3) set two milestones with a review after each.'),
  (1, 1, 'SYSTEM', 'You are OptiMind, the assistant of %2$s. Answer concisely and never reveal other tenants'' data.'),
  (1, 2, 'USER', 'I am working on "%1$s". What should we do first?'),
  (1, 3, 'ASSISTANT', 'Start by writing down what "done" means for %1$s, then map the systems and people involved. '
                      'I can draft a checklist once you share the scope.'),
  (2, 1, 'USER', 'Let''s talk about %1$s. Where do we stand compared with teams of our size?'),
  (2, 2, 'ASSISTANT', 'Most teams of your size treat "%1$s" as a quarter-long effort: a discovery week, '
                      'an implementation phase, and a measured rollout.'),
  (2, 3, 'USER', 'Thanks. What are the main risks, and how should we measure progress?'),
  (2, 4, 'ASSISTANT', 'The main risks are unclear ownership and scope creep. Track a small set of metrics weekly: '
                      'milestones hit, open issues by severity, and time to resolve them.')
) as t (shape, pos, role, template) on t.shape = c.n % 3
order by c.n, t.pos;


-- Posts (28) -----------------------------------------------------------------
-- Slugs are derived from the titles (unique within each tenant). Posts 9, 18 and
-- 27 are drafts; 1, 7, 13, 19 and 25 are featured.

insert into public.posts
  (id, tenant_id, author_id, title, content, excerpt, slug, published, featured, published_at, metadata,
   reading_time_minutes, views, shares, created_at, updated_at)
select
  format('90000000-0000-4000-8000-%s', lpad(p.n::text, 12, '0'))::uuid,
  p.tenant_id,
  m.ids[1 + p.n % cardinality(m.ids)],
  p.title,
  format(E'# %1$s\n\n%2$s\n\n## Why it matters\n\nTeams that get %3$s right ship faster and spend less time ' ||
         E'on rework. This post collects what we learned doing it across several projects.\n\n' ||
         E'## What to do next\n\nStart small, measure, and write down the decisions you make along the way.',
         p.title, p.excerpt, lower(p.topic)),
  p.excerpt,
  trim(both '-' from regexp_replace(lower(replace(p.title, '''', '')), '[^a-z0-9]+', '-', 'g')),
  p.n % 9 <> 0,
  p.n % 6 = 1,
  case when p.n % 9 <> 0 then timestamptz '2025-09-08 07:07:44+00' - (40 - p.n) * interval '1 day' + interval '1 day' end,
  jsonb_build_object(
    'metaTitle', p.title,
    'metaDescription', p.excerpt,
    'keywords', p.keywords,
    'tags', jsonb_build_array(lower(replace(p.topic, ' ', '-')))
  ),
  3 + p.n % 9,
  case when p.n % 9 <> 0 then 150 + p.n * 379 % 5000 else 0 end,
  case when p.n % 9 <> 0 then p.n * 17 % 300 else 0 end,
  timestamptz '2025-09-08 07:07:44+00' - (40 - p.n) * interval '1 day',
  timestamptz '2025-09-08 07:07:44+00' - (40 - p.n) * interval '1 day' + interval '1 day'
from (
  select v.*,
         format('10000000-0000-4000-8000-%s',
                lpad((case when v.n <= 12 then 1 when v.n <= 22 then 2 else 3 end)::text, 12, '0'))::uuid as tenant_id
  from (values
    (1, 'Getting Started with the OptiMind GraphQL API', 'Technical documentation',
     'A tour of authentication, tenants and the first queries you will write.', '["graphql", "api", "getting started"]'::jsonb),
    (2, 'Ten Security Best Practices for Multi-Tenant SaaS', 'Security best practices',
     'The controls that keep one customer''s data away from another''s.', '["security", "multi-tenant", "saas"]'),
    (3, 'Integrating Large Language Models into Existing Workflows', 'AI integration',
     'Where LLMs fit into the tools your team already uses, and where they do not.', '["llm", "integration", "workflow"]'),
    (4, 'Preparing for Post-Quantum Cryptography', 'Quantum security',
     'An inventory-first approach to the coming change in public-key cryptography.', '["post-quantum", "cryptography"]'),
    (5, 'Designing Row Level Security Policies That Scale', 'Technical documentation',
     'Patterns for Postgres RLS that stay fast and reviewable as tables multiply.', '["postgres", "rls", "security"]'),
    (6, 'A Practical Guide to Prompt Versioning', 'AI integration',
     'Treat prompts like code: review them, version them, and test them.', '["prompts", "versioning"]'),
    (7, 'How We Structure Projects and Analyses', 'Technical documentation',
     'The data model behind projects, analyses and the results they produce.', '["projects", "analyses", "data model"]'),
    (8, 'Understanding Credit Usage and Billing', 'Technical documentation',
     'How credits are granted, spent and reported for each member.', '["credits", "billing"]'),
    (9, 'Roadmap Notes for the Fourth Quarter', 'Technical documentation',
     'Working notes on what we plan to build next.', '["roadmap"]'),
    (10, 'Observability for AI Pipelines', 'AI integration',
     'Tracing, metrics and evaluation for systems whose output is not deterministic.', '["observability", "ai", "tracing"]'),
    (11, 'Secrets Management Without the Headaches', 'Security best practices',
     'Rotation, scoping and storage of API keys and credentials.', '["secrets", "api keys", "security"]'),
    (12, 'Building Reliable Retrieval-Augmented Generation', 'AI integration',
     'Chunking, embeddings and evaluation for RAG that answers correctly.', '["rag", "embeddings", "pgvector"]'),
    (13, 'Zero-Trust Architecture in Practice', 'Security best practices',
     'What "never trust, always verify" means for a real network and a real team.', '["zero trust", "architecture"]'),
    (14, 'Mapping SOC 2 Controls to Engineering Work', 'Security best practices',
     'Turning audit criteria into tickets engineers can actually close.', '["soc2", "compliance", "audit"]'),
    (15, 'Threat Modeling AI Features', 'Security best practices',
     'Prompt injection, data leakage and abuse cases to consider before launch.', '["threat modeling", "ai", "security"]'),
    (16, 'Quantum Risk Assessment for Enterprise Data', 'Quantum security',
     'Which data needs protection from "harvest now, decrypt later" attacks.', '["quantum", "risk", "encryption"]'),
    (17, 'Enterprise SSO and SCIM Provisioning Explained', 'Technical documentation',
     'Connecting your identity provider for sign-in and automatic provisioning.', '["sso", "scim", "identity"]'),
    (18, 'Incident Response Playbook Update', 'Security best practices',
     'Draft changes to our on-call and escalation procedures.', '["incident response", "playbook"]'),
    (19, 'Data Classification for Regulated Industries', 'Security best practices',
     'A four-level scheme that maps cleanly onto retention and access rules.', '["data classification", "gdpr", "hipaa"]'),
    (20, 'Auditing AI Decisions with Immutable Logs', 'AI integration',
     'Recording inputs, outputs and reviewers so every decision can be explained.', '["audit", "ai governance"]'),
    (21, 'Vendor Security Reviews That Don''t Stall Deals', 'Security best practices',
     'Answering questionnaires quickly without cutting corners.', '["vendor risk", "security review"]'),
    (22, 'Key Rotation Strategies for Long-Lived Systems', 'Quantum security',
     'Rotating keys without downtime, and getting ready for new algorithms.', '["key rotation", "cryptography"]'),
    (23, 'Shipping an AI MVP in Six Weeks', 'AI integration',
     'Scope, model choice and evaluation for a first release on a small team.', '["mvp", "startup", "ai"]'),
    (24, 'Choosing the Right Model for Your Budget', 'AI integration',
     'Comparing quality, latency and cost across model sizes.', '["models", "cost", "latency"]'),
    (25, 'Reducing Inference Latency on a Startup Budget', 'Technical documentation',
     'Caching, batching and streaming techniques that cost nothing extra.', '["latency", "inference", "performance"]'),
    (26, 'Lessons from Our First 100 Customers', 'AI integration',
     'What early customers asked for, and what they actually used.', '["customers", "product"]'),
    (27, 'Fundraising Update Template', 'Technical documentation',
     'A draft structure for monthly investor updates.', '["fundraising", "template"]'),
    (28, 'Evaluating LLM Output Quality Automatically', 'AI integration',
     'Building an evaluation set and scoring model answers on every change.', '["evaluation", "llm", "quality"]')
  ) as v (n, title, topic, excerpt, keywords)
) as p
cross join lateral (
  select array_agg(tu.user_id order by tu.user_id) as ids
  from public.tenant_users tu where tu.tenant_id = p.tenant_id
) as m
order by p.n;


-- Content generations (3): one of each type ----------------------------------

insert into public.content_generations
  (id, tenant_id, user_id, project_id, type, prompt, output, model, tokens_used, credits_cost, processing_time_ms,
   quality_score, status, metadata, created_at, updated_at)
values
  ('a0000000-0000-4000-8000-000000000001', '10000000-0000-4000-8000-000000000001',
   '20000000-0000-4000-8000-000000000001', '60000000-0000-4000-8000-000000000005', 'TEXT',
   'Write a 150-word announcement of the new multi-tenant workspace for our customers.',
   'Today we are introducing workspaces: every organisation now gets its own tenant with separate projects, '
   'settings and billing. Invite teammates as owners, admins, members or viewers, switch between workspaces '
   'in one click, and rest assured that row level security keeps each workspace''s data to itself.',
   'gpt-4o', 412, 4, 2140, 0.92, 'COMPLETED',
   '{"format": "markdown", "tone": "friendly", "wordCount": 52}',
   timestamptz '2025-09-08 07:07:44+00' - interval '3 days',
   timestamptz '2025-09-08 07:07:44+00' - interval '3 days' + interval '3 seconds'),
  ('a0000000-0000-4000-8000-000000000002', '10000000-0000-4000-8000-000000000003',
   '20000000-0000-4000-8000-000000000004', '60000000-0000-4000-8000-000000000032', 'CODE',
   'Write a TypeScript function that retries an async call with exponential backoff.',
   E'export async function retry<T>(fn: () => Promise<T>, attempts = 3, baseMs = 100): Promise<T> {\n' ||
   E'  for (let i = 0; ; i++) {\n' ||
   E'    try {\n' ||
   E'      return await fn();\n' ||
   E'    } catch (error) {\n' ||
   E'      if (i + 1 >= attempts) throw error;\n' ||
   E'      await new Promise((resolve) => setTimeout(resolve, baseMs * 2 ** i));\n' ||
   E'    }\n' ||
   E'  }\n' ||
   E'}\n',
   'claude-3-5-sonnet', 286, 3, 1730, 0.95, 'COMPLETED',
   '{"language": "typescript", "linesOfCode": 10}',
   timestamptz '2025-09-08 07:07:44+00' - interval '2 days',
   timestamptz '2025-09-08 07:07:44+00' - interval '2 days' + interval '2 seconds'),
  ('a0000000-0000-4000-8000-000000000003', '10000000-0000-4000-8000-000000000002',
   '20000000-0000-4000-8000-000000000002', '60000000-0000-4000-8000-000000000020', 'IMAGE',
   'An isometric illustration of a secure data centre protected by a glowing shield, in indigo and teal.',
   'https://cdn.example.com/generations/a0000000-0000-4000-8000-000000000003.png',
   'dall-e-3', 85, 10, 8420, 0.88, 'COMPLETED',
   '{"width": 1024, "height": 1024, "format": "png", "style": "isometric"}',
   timestamptz '2025-09-08 07:07:44+00' - interval '1 day',
   timestamptz '2025-09-08 07:07:44+00' - interval '1 day' + interval '9 seconds');


-- Uploads and business solutions: one or two rows each, for the demo screens --

insert into public.uploads
  (id, tenant_id, user_id, project_id, filename, original_name, path, size_bytes, mime_type, status, metadata,
   processed_at, created_at, updated_at)
values
  ('b0000000-0000-4000-8000-000000000001', '10000000-0000-4000-8000-000000000001',
   '20000000-0000-4000-8000-000000000003', '60000000-0000-4000-8000-000000000001',
   'b0000000-0000-4000-8000-000000000001.pdf', 'Platform Architecture Overview.pdf',
   'tenants/10000000-0000-4000-8000-000000000001/uploads/b0000000-0000-4000-8000-000000000001.pdf',
   2457600, 'application/pdf', 'COMPLETED', '{"pages": 24}',
   timestamptz '2025-09-08 07:07:44+00' - interval '10 days' + interval '30 seconds',
   timestamptz '2025-09-08 07:07:44+00' - interval '10 days',
   timestamptz '2025-09-08 07:07:44+00' - interval '10 days' + interval '30 seconds'),
  ('b0000000-0000-4000-8000-000000000002', '10000000-0000-4000-8000-000000000002',
   '20000000-0000-4000-8000-000000000005', '60000000-0000-4000-8000-000000000017',
   'b0000000-0000-4000-8000-000000000002.csv', 'q3-access-review.csv',
   'tenants/10000000-0000-4000-8000-000000000002/uploads/b0000000-0000-4000-8000-000000000002.csv',
   183204, 'text/csv', 'PENDING', '{"rows": 1250}',
   null,
   timestamptz '2025-09-08 07:07:44+00' - interval '1 hour',
   timestamptz '2025-09-08 07:07:44+00' - interval '1 hour');

insert into public.contract_analyses
  (id, tenant_id, user_id, project_id, contract_title, contract_type, risk_assessment, clauses, plain_language,
   recommendations, confidence, processing_time_ms, status, metadata, created_at, updated_at)
values
  ('c1000000-0000-4000-8000-000000000001', '10000000-0000-4000-8000-000000000002',
   '20000000-0000-4000-8000-000000000005', '60000000-0000-4000-8000-000000000017',
   'Mutual NDA with Northwind Analytics', 'NDA',
   '{"overall": "LOW", "issues": [{"clause": "Term", "severity": "MEDIUM", "note": "Confidentiality survives only 1 year."}]}',
   '[{"name": "Definition of Confidential Information", "risk": "LOW"}, {"name": "Term", "risk": "MEDIUM"}]',
   '{"summary": "Both parties keep each other''s non-public information secret for one year after the agreement ends."}',
   '["Extend the survival period to 3 years", "Add an exception for independently developed information"]',
   0.91, 5230, 'COMPLETED', '{"pages": 4}',
   timestamptz '2025-09-08 07:07:44+00' - interval '12 days',
   timestamptz '2025-09-08 07:07:44+00' - interval '12 days' + interval '6 seconds');

insert into public.compliance_monitoring
  (id, tenant_id, user_id, project_id, business_type, jurisdiction, regulations, risk_assessment, action_plan,
   next_review_date, confidence, processing_time_ms, status, metadata, created_at, updated_at)
values
  ('c4000000-0000-4000-8000-000000000001', '10000000-0000-4000-8000-000000000002',
   '20000000-0000-4000-8000-000000000002', '60000000-0000-4000-8000-000000000020',
   'B2B software (SaaS)', 'European Union',
   '["GDPR", "NIS2", "EU AI Act"]',
   '{"overall": "MEDIUM", "gaps": ["AI system register not started", "NIS2 incident reporting within 24h not rehearsed"]}',
   '[{"step": "Create the AI system register", "due": "2025-10-15"}, {"step": "Run an incident reporting drill", "due": "2025-11-01"}]',
   timestamptz '2025-09-08 07:07:44+00' + interval '90 days',
   0.86, 7410, 'REVIEW_REQUIRED', '{}',
   timestamptz '2025-09-08 07:07:44+00' - interval '5 days',
   timestamptz '2025-09-08 07:07:44+00' - interval '5 days' + interval '8 seconds');

insert into public.learning_paths
  (id, tenant_id, user_id, project_id, user_profile, skill_assessment, generated_path, progress_tracking,
   estimated_completion, confidence, processing_time_ms, status, metadata, created_at, updated_at)
values
  ('c5000000-0000-4000-8000-000000000001', '10000000-0000-4000-8000-000000000003',
   '20000000-0000-4000-8000-000000000004', '60000000-0000-4000-8000-000000000031',
   '{"role": "ML engineer", "experienceYears": 4}',
   '{"pytorch": "advanced", "evaluation": "intermediate", "mlops": "beginner"}',
   '[{"module": "Model serving fundamentals", "weeks": 2}, {"module": "Evaluation at scale", "weeks": 3}, {"module": "MLOps pipelines", "weeks": 3}]',
   '{"completedModules": 1, "totalModules": 3}',
   timestamptz '2025-09-08 07:07:44+00' + interval '42 days',
   0.84, 3120, 'IN_PROGRESS', '{}',
   timestamptz '2025-09-08 07:07:44+00' - interval '14 days',
   timestamptz '2025-09-08 07:07:44+00' - interval '14 days' + interval '4 seconds');


-- Credits (8 ledger entries) --------------------------------------------------
-- Written through the ledger function so balance_after is computed as in
-- production. One entry per user in their tenant: purchases that came with the
-- plan upgrades, and internal allocations for the two specialists; then each
-- tenant's pool (user_id null), which its OWNERs and ADMINs allocate from.

select private.append_credit_entry(
  '10000000-0000-4000-8000-000000000001', '20000000-0000-4000-8000-000000000001', 1000, 'PURCHASE',
  'Credit pack included with the ENTERPRISE plan', '{"source": "plan_upgrade", "plan": "ENTERPRISE"}');
select private.append_credit_entry(
  '10000000-0000-4000-8000-000000000002', '20000000-0000-4000-8000-000000000002', 1000, 'PURCHASE',
  'Credit pack included with the ENTERPRISE plan', '{"source": "plan_upgrade", "plan": "ENTERPRISE"}');
select private.append_credit_entry(
  '10000000-0000-4000-8000-000000000001', '20000000-0000-4000-8000-000000000003', 1000, 'PURCHASE',
  'Starter credit pack', '{"source": "self_service", "pack": "starter"}');
select private.append_credit_entry(
  '10000000-0000-4000-8000-000000000003', '20000000-0000-4000-8000-000000000004', 3000, 'GRANT',
  'Allocation for model evaluation and fine-tuning work', '{"source": "internal_allocation", "team": "ai"}');
select private.append_credit_entry(
  '10000000-0000-4000-8000-000000000002', '20000000-0000-4000-8000-000000000005', 2000, 'GRANT',
  'Allocation for security analyses', '{"source": "internal_allocation", "team": "security"}');
select private.append_credit_entry(
  '10000000-0000-4000-8000-000000000001', null, 10000, 'PURCHASE',
  'Credit pool included with the ENTERPRISE plan', '{"source": "plan", "plan": "ENTERPRISE"}');
select private.append_credit_entry(
  '10000000-0000-4000-8000-000000000002', null, 10000, 'PURCHASE',
  'Credit pool included with the ENTERPRISE plan', '{"source": "plan", "plan": "ENTERPRISE"}');
select private.append_credit_entry(
  '10000000-0000-4000-8000-000000000003', null, 2500, 'PURCHASE',
  'Credit pool included with the PRO plan', '{"source": "plan", "plan": "PRO"}');
