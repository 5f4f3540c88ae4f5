-- The five business-solution analyses: ContractWise, GlobalFit, BehaviorPredict,
-- ComplianceGuard and SkillPath. Same tenancy and policies as other tenant content.

create table public.contract_analyses (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  user_id uuid not null references public.users (id) on delete cascade,
  project_id uuid,
  contract_title text not null check (char_length(contract_title) between 1 and 300),
  contract_type public.contract_type not null,
  file_url text check (char_length(file_url) <= 2048),
  extracted_text text,
  risk_assessment jsonb,
  clauses jsonb,
  plain_language jsonb,
  compliance_check jsonb,
  recommendations jsonb,
  confidence real check (confidence between 0 and 1),
  processing_time_ms integer check (processing_time_ms >= 0),
  status public.contract_analysis_status not null default 'PENDING',
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (project_id, tenant_id) references public.projects (id, tenant_id) on delete set null (project_id)
);

create table public.localization_analyses (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  user_id uuid not null references public.users (id) on delete cascade,
  project_id uuid,
  product_name text not null check (char_length(product_name) between 1 and 300),
  target_market text not null check (char_length(target_market) between 1 and 200),
  product_images jsonb,
  product_description text,
  cultural_analysis jsonb,
  visual_adaptation jsonb,
  market_strategy jsonb,
  compliance_check jsonb,
  competitor_analysis jsonb,
  confidence real check (confidence between 0 and 1),
  processing_time_ms integer check (processing_time_ms >= 0),
  status public.localization_status not null default 'PENDING',
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (project_id, tenant_id) references public.projects (id, tenant_id) on delete set null (project_id)
);

create table public.customer_behavior_analyses (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  user_id uuid not null references public.users (id) on delete cascade,
  project_id uuid,
  customer_segment text check (char_length(customer_segment) <= 200),
  data_source jsonb,
  behavior_prediction jsonb,
  sentiment_analysis jsonb,
  journey_mapping jsonb,
  recommendations jsonb,
  conversion_probability real check (conversion_probability between 0 and 1),
  churn_risk real check (churn_risk between 0 and 1),
  confidence real check (confidence between 0 and 1),
  processing_time_ms integer check (processing_time_ms >= 0),
  status public.behavior_analysis_status not null default 'PENDING',
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (project_id, tenant_id) references public.projects (id, tenant_id) on delete set null (project_id)
);

create table public.compliance_monitoring (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  user_id uuid not null references public.users (id) on delete cascade,
  project_id uuid,
  business_type text not null check (char_length(business_type) between 1 and 200),
  jurisdiction text not null check (char_length(jurisdiction) between 1 and 200),
  regulations jsonb,
  risk_assessment jsonb,
  document_reviews jsonb,
  action_plan jsonb,
  audit_preparation jsonb,
  training_materials jsonb,
  next_review_date timestamptz,
  confidence real check (confidence between 0 and 1),
  processing_time_ms integer check (processing_time_ms >= 0),
  status public.compliance_status not null default 'PENDING',
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (project_id, tenant_id) references public.projects (id, tenant_id) on delete set null (project_id)
);

create table public.learning_paths (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  user_id uuid not null references public.users (id) on delete cascade,
  project_id uuid,
  user_profile jsonb,
  skill_assessment jsonb,
  learning_style jsonb,
  generated_path jsonb,
  progress_tracking jsonb,
  certifications jsonb,
  recommendations jsonb,
  estimated_completion timestamptz,
  confidence real check (confidence between 0 and 1),
  processing_time_ms integer check (processing_time_ms >= 0),
  status public.learning_path_status not null default 'PENDING',
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (project_id, tenant_id) references public.projects (id, tenant_id) on delete set null (project_id)
);

do $$
declare
  tbl text;
begin
  foreach tbl in array array[
    'contract_analyses', 'localization_analyses', 'customer_behavior_analyses',
    'compliance_monitoring', 'learning_paths'
  ] loop
    execute format('create index %I on public.%I (tenant_id, created_at desc)', tbl || '_tenant_id_created_at_idx', tbl);
    execute format('create index %I on public.%I (user_id)', tbl || '_user_id_idx', tbl);
    execute format('create index %I on public.%I (project_id)', tbl || '_project_id_idx', tbl);
    execute format(
      'create trigger set_updated_at before update on public.%I for each row execute function private.set_updated_at()',
      tbl);
    call private.apply_tenant_content_policies(format('public.%I', tbl)::regclass);
  end loop;
end
$$;
