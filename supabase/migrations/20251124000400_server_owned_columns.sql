-- Every table is reached directly through Supabase's Data API as well as through the
-- gateway, so the database alone decides what a client may write:
--   * column grants: clients write what they ask for (inputs, names, metadata); the server
--     owns prices, statuses, results, counters, embeddings and who owns a row, which only
--     service_role (the worker, the billing backend) writes;
--   * paid requests (analyses, content generations, the five business solutions) are
--     charged by a trigger before the row exists, whoever inserts it as anon or
--     authenticated: a short balance refuses the insert (GW001) and nothing is written.

-- Prices, in credits. The gateway's schema documents the same figures (tests compare them).
create table private.request_prices (
  request text not null check (request ~ '^[a-z_]+$'),
  type text not null default '',
  credits integer not null check (credits > 0),
  primary key (request, type)
);
comment on table private.request_prices is
  'What a request costs: request is the table, type the row''s type column where the price depends on it (else '''').';
alter table private.request_prices enable row level security;

insert into private.request_prices (request, type, credits) values
  ('analyses', 'TEXT_ANALYSIS', 10),
  ('analyses', 'SENTIMENT_ANALYSIS', 10),
  ('analyses', 'SEO_ANALYSIS', 15),
  ('analyses', 'CONTENT_OPTIMIZATION', 15),
  ('analyses', 'CODE_ANALYSIS', 20),
  ('analyses', 'DATA_ANALYSIS', 25),
  ('analyses', 'IMAGE_ANALYSIS', 30),
  ('analyses', 'MULTIMODAL_ANALYSIS', 50),
  ('content_generations', 'TEXT', 5),
  ('content_generations', 'CODE', 10),
  ('content_generations', 'IMAGE', 25),
  ('contract_analyses', '', 40),
  ('localization_analyses', '', 35),
  ('customer_behavior_analyses', '', 30),
  ('compliance_monitoring', '', 45),
  ('learning_paths', '', 20);

-- Business-solution requests now have a price, recorded like the other AI work's.
do $$
declare
  tbl text;
begin
  foreach tbl in array array[
    'contract_analyses', 'localization_analyses', 'customer_behavior_analyses', 'compliance_monitoring', 'learning_paths'
  ] loop
    execute format(
      'alter table public.%I add column credits_cost integer not null default 0 check (credits_cost >= 0)', tbl);
  end loop;
end
$$;

create or replace function private.charge_request(
  p_request text, p_type text, p_tenant_id uuid, p_user_id uuid, p_reason text, p_metadata jsonb
) returns integer
language plpgsql security definer
set search_path = ''
as $$
declare
  price integer;
begin
  -- Only ever the caller's own balance in their active tenant, as MEMBER and up.
  if p_user_id is distinct from auth.uid() or p_tenant_id is distinct from private.active_tenant_id()
     or coalesce(private.active_tenant_role() < 'MEMBER', true) then
    raise exception 'requests are paid by their requester, a MEMBER or higher of the active tenant'
      using errcode = '42501';
  end if;
  select rp.credits into price from private.request_prices rp
  where rp.request = p_request and rp.type = coalesce(p_type, '');
  if price is null then
    raise exception 'no price for % %', p_request, coalesce(p_type, '') using errcode = '22023';
  end if;
  perform private.append_credit_entry(p_tenant_id, p_user_id, -price, 'SPEND', p_reason, p_metadata);
  return price;
end;
$$;
comment on function private.charge_request(text, text, uuid, uuid, text, jsonb) is
  'Spends the price of a request from the caller''s balance and returns it; GW001 when the balance is short.';
revoke all on function private.charge_request(text, text, uuid, uuid, text, jsonb) from public;
grant execute on function private.charge_request(text, text, uuid, uuid, text, jsonb) to authenticated;

-- Not security definer: current_user must be the inserting role. Arguments: the ledger
-- reason's prefix and the metadata key that names the row.
create or replace function private.charge_for_request() returns trigger
language plpgsql
set search_path = ''
as $$
declare
  request_type text := to_jsonb(new) ->> 'type';
begin
  -- service_role and the owner (imports, demo data) are trusted to record their own price.
  if current_user not in ('anon', 'authenticated') then
    return new;
  end if;
  new.credits_cost := private.charge_request(
    tg_table_name, request_type, new.tenant_id, new.user_id,
    tg_argv[0] || coalesce(':' || request_type, ''),
    jsonb_strip_nulls(jsonb_build_object(tg_argv[1], new.id, 'type', request_type))
  );
  return new;
end;
$$;
comment on function private.charge_for_request() is
  'Trigger: charges an API caller the price of the request row being inserted and records it in credits_cost.';

create trigger charge_for_request before insert on public.analyses
  for each row execute function private.charge_for_request('analysis', 'analysisId');
create trigger charge_for_request before insert on public.content_generations
  for each row execute function private.charge_for_request('generation', 'contentGenerationId');
create trigger charge_for_request before insert on public.contract_analyses
  for each row execute function private.charge_for_request('contract_analysis', 'contractAnalysisId');
create trigger charge_for_request before insert on public.localization_analyses
  for each row execute function private.charge_for_request('localization_analysis', 'localizationAnalysisId');
create trigger charge_for_request before insert on public.customer_behavior_analyses
  for each row execute function private.charge_for_request('customer_behavior_analysis', 'customerBehaviorAnalysisId');
create trigger charge_for_request before insert on public.compliance_monitoring
  for each row execute function private.charge_for_request('compliance_monitoring', 'complianceMonitoringId');
create trigger charge_for_request before insert on public.learning_paths
  for each row execute function private.charge_for_request('learning_path', 'learningPathId');

-- Column grants: what authenticated callers may write; everything else is the server's.
-- A row's tenant and owner are set once, at insert, and checked by the insert policies.
revoke insert, update on
  public.projects, public.analyses, public.uploads, public.posts, public.content_generations,
  public.contract_analyses, public.localization_analyses, public.customer_behavior_analyses,
  public.compliance_monitoring, public.learning_paths, public.conversations, public.messages
from authenticated;

grant insert (id, tenant_id, user_id, name, description, status, metadata),
      update (name, description, status, metadata) on public.projects to authenticated;
grant insert (id, tenant_id, user_id, project_id, type, input, model, metadata),
      update (project_id, metadata) on public.analyses to authenticated;
grant insert (id, tenant_id, user_id, project_id, filename, original_name, path, size_bytes, mime_type, metadata),
      update (project_id, metadata) on public.uploads to authenticated;
grant insert (id, tenant_id, author_id, title, content, excerpt, slug, published, featured, metadata, reading_time_minutes),
      update (title, content, excerpt, slug, published, featured, metadata, reading_time_minutes) on public.posts to authenticated;
grant insert (id, tenant_id, user_id, project_id, type, prompt, model, metadata),
      update (project_id, metadata) on public.content_generations to authenticated;
grant insert (id, tenant_id, user_id, project_id, contract_title, contract_type, file_url, extracted_text, metadata),
      update (project_id, metadata) on public.contract_analyses to authenticated;
grant insert (id, tenant_id, user_id, project_id, product_name, target_market, product_images, product_description, metadata),
      update (project_id, metadata) on public.localization_analyses to authenticated;
grant insert (id, tenant_id, user_id, project_id, customer_segment, data_source, metadata),
      update (project_id, metadata) on public.customer_behavior_analyses to authenticated;
grant insert (id, tenant_id, user_id, project_id, business_type, jurisdiction, regulations, metadata),
      update (project_id, metadata) on public.compliance_monitoring to authenticated;
grant insert (id, tenant_id, user_id, project_id, user_profile, metadata),
      update (project_id, metadata) on public.learning_paths to authenticated;
grant insert (id, tenant_id, user_id, title, is_active, metadata),
      update (title, is_active, metadata) on public.conversations to authenticated;
grant insert (id, tenant_id, conversation_id, role, content, metadata),
      update (content, metadata) on public.messages to authenticated;
