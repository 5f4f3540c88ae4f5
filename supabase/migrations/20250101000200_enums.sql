-- Enumerations of the data model.

-- Declared from least to most privileged so policies can compare with >=.
create type public.tenant_role as enum ('VIEWER', 'MEMBER', 'ADMIN', 'OWNER');
comment on type public.tenant_role is
  'A member''s role in a tenant. Order matters: VIEWER < MEMBER < ADMIN < OWNER.';

create type public.tenant_status as enum ('ACTIVE', 'SUSPENDED', 'ARCHIVED');
create type public.user_role as enum ('USER', 'ADMIN', 'MODERATOR', 'DEVELOPER');
create type public.subscription_plan as enum ('FREE', 'BASIC', 'PRO', 'ENTERPRISE');
create type public.subscription_status as enum ('ACTIVE', 'CANCELLED', 'EXPIRED', 'PENDING');
create type public.project_status as enum ('ACTIVE', 'COMPLETED', 'ARCHIVED', 'SUSPENDED');
create type public.analysis_type as enum (
  'TEXT_ANALYSIS', 'IMAGE_ANALYSIS', 'CODE_ANALYSIS', 'DATA_ANALYSIS',
  'SENTIMENT_ANALYSIS', 'CONTENT_OPTIMIZATION', 'SEO_ANALYSIS', 'MULTIMODAL_ANALYSIS'
);
create type public.analysis_status as enum ('PENDING', 'PROCESSING', 'COMPLETED', 'FAILED');
create type public.message_role as enum ('USER', 'ASSISTANT', 'SYSTEM');
create type public.upload_status as enum ('PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'DELETED');
create type public.credit_kind as enum ('PURCHASE', 'GRANT', 'SPEND', 'REFUND');
create type public.generation_type as enum ('TEXT', 'CODE', 'IMAGE');
create type public.generation_status as enum ('PENDING', 'PROCESSING', 'COMPLETED', 'FAILED');
create type public.audit_action as enum ('INSERT', 'UPDATE', 'DELETE');
create type public.contract_type as enum (
  'EMPLOYMENT', 'SERVICE_AGREEMENT', 'NDA', 'PARTNERSHIP', 'SALES_CONTRACT',
  'LEASE_AGREEMENT', 'LICENSE_AGREEMENT', 'FRANCHISE', 'MERGER_ACQUISITION', 'OTHER'
);
create type public.contract_analysis_status as enum ('PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'REVIEW_REQUIRED');
create type public.localization_status as enum ('PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'REVIEW_REQUIRED');
create type public.behavior_analysis_status as enum ('PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'INSUFFICIENT_DATA');
create type public.compliance_status as enum (
  'PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'REVIEW_REQUIRED', 'URGENT_ATTENTION'
);
create type public.learning_path_status as enum (
  'PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'IN_PROGRESS', 'ON_HOLD'
);
