import type { ApiRoleName, TableAccess } from './privileges.ts';

/**
 * What anon and authenticated may do in the database, reached through the gateway or directly
 * through Supabase's Data API. tests/rls/privilege-matrix.test.ts compares it with the migrated
 * database: a table, column grant, policy or function that is not listed here fails the suite.
 *
 * Tables: privileges first (`true` for the whole table, else the columns), then the row policies
 * that narrow them. anon's SELECT on tenant tables finds nothing (no policy names anon but the
 * one on published posts); it exists so an anonymous lookup answers "nothing" instead of failing.
 */
export const TABLE_ACCESS: Record<string, TableAccess> = {
  'public.analyses': {
    anon: { select: true },
    authenticated: { select: true, insert: ['id', 'tenant_id', 'user_id', 'project_id', 'type', 'input', 'model', 'metadata'], update: ['project_id', 'metadata'], delete: true },
    policies: [
      'delete to authenticated: Creators and admins can delete rows',
      'insert to authenticated: Members can create rows as themselves',
      'select to authenticated: Members can read their tenant\'s rows',
      'update to authenticated: Creators and admins can update rows',
    ],
  },
  'public.api_keys': {
    anon: { select: ['id', 'tenant_id', 'user_id', 'name', 'prefix', 'last_used_at', 'expires_at', 'revoked_at', 'created_at', 'updated_at'] },
    authenticated: { select: ['id', 'tenant_id', 'user_id', 'name', 'prefix', 'last_used_at', 'expires_at', 'revoked_at', 'created_at', 'updated_at'], insert: ['tenant_id', 'user_id', 'name', 'prefix', 'key_hash', 'expires_at'], update: ['name'], delete: true },
    policies: [
      'delete to authenticated: Users can delete their own API keys',
      'insert to authenticated: Members can create API keys for themselves, but not with a key',
      'select to authenticated: Owners and admins can read their tenant\'s API keys',
      'select to authenticated: Users can read their own API keys',
      'update to authenticated: Users can rename their own API keys',
    ],
  },
  'public.audit_logs': {
    anon: { select: true },
    authenticated: { select: true },
    policies: [
      'select to authenticated: Admins can read their tenant\'s audit trail, private rows aside',
      'select to authenticated: Users can read the audit entries of their own private rows',
    ],
  },
  'public.compliance_monitoring': {
    anon: { select: true },
    authenticated: { select: true, insert: ['id', 'tenant_id', 'user_id', 'project_id', 'business_type', 'jurisdiction', 'regulations', 'metadata'], update: ['project_id', 'metadata'], delete: true },
    policies: [
      'delete to authenticated: Creators and admins can delete rows',
      'insert to authenticated: Members can create rows as themselves',
      'select to authenticated: Members can read their tenant\'s rows',
      'update to authenticated: Creators and admins can update rows',
    ],
  },
  'public.content_generations': {
    anon: { select: true },
    authenticated: { select: true, insert: ['id', 'tenant_id', 'user_id', 'project_id', 'type', 'prompt', 'model', 'metadata'], update: ['project_id', 'metadata'], delete: true },
    policies: [
      'delete to authenticated: Creators and admins can delete rows',
      'insert to authenticated: Members can create rows as themselves',
      'select to authenticated: Members can read their tenant\'s rows',
      'update to authenticated: Creators and admins can update rows',
    ],
  },
  'public.contract_analyses': {
    anon: { select: true },
    authenticated: { select: true, insert: ['id', 'tenant_id', 'user_id', 'project_id', 'contract_title', 'contract_type', 'file_url', 'extracted_text', 'metadata'], update: ['project_id', 'metadata'], delete: true },
    policies: [
      'delete to authenticated: Creators and admins can delete rows',
      'insert to authenticated: Members can create rows as themselves',
      'select to authenticated: Members can read their tenant\'s rows',
      'update to authenticated: Creators and admins can update rows',
    ],
  },
  'public.conversations': {
    anon: { select: true },
    authenticated: { select: true, insert: ['id', 'tenant_id', 'user_id', 'title', 'is_active', 'metadata'], update: ['title', 'is_active', 'metadata'], delete: true },
    policies: [
      'delete to authenticated: Users can delete their own conversations',
      'insert to authenticated: Members can start conversations as themselves',
      'select to authenticated: Users can read their own conversations',
      'update to authenticated: Users can update their own conversations',
    ],
  },
  'public.credit_transactions': {
    anon: { select: true },
    authenticated: { select: true },
    policies: [
      'select to authenticated: Admins can read their tenant\'s credit transactions',
      'select to authenticated: Users can read their own credit transactions',
    ],
  },
  'public.customer_behavior_analyses': {
    anon: { select: true },
    authenticated: { select: true, insert: ['id', 'tenant_id', 'user_id', 'project_id', 'customer_segment', 'data_source', 'metadata'], update: ['project_id', 'metadata'], delete: true },
    policies: [
      'delete to authenticated: Creators and admins can delete rows',
      'insert to authenticated: Members can create rows as themselves',
      'select to authenticated: Members can read their tenant\'s rows',
      'update to authenticated: Creators and admins can update rows',
    ],
  },
  'public.learning_paths': {
    anon: { select: true },
    authenticated: { select: true, insert: ['id', 'tenant_id', 'user_id', 'project_id', 'user_profile', 'metadata'], update: ['project_id', 'metadata'], delete: true },
    policies: [
      'delete to authenticated: Creators and admins can delete rows',
      'insert to authenticated: Members can create rows as themselves',
      'select to authenticated: Members can read their tenant\'s rows',
      'update to authenticated: Creators and admins can update rows',
    ],
  },
  'public.localization_analyses': {
    anon: { select: true },
    authenticated: { select: true, insert: ['id', 'tenant_id', 'user_id', 'project_id', 'product_name', 'target_market', 'product_images', 'product_description', 'metadata'], update: ['project_id', 'metadata'], delete: true },
    policies: [
      'delete to authenticated: Creators and admins can delete rows',
      'insert to authenticated: Members can create rows as themselves',
      'select to authenticated: Members can read their tenant\'s rows',
      'update to authenticated: Creators and admins can update rows',
    ],
  },
  'public.messages': {
    anon: { select: true },
    authenticated: { select: true, insert: ['id', 'tenant_id', 'conversation_id', 'role', 'content', 'metadata'], update: ['content', 'metadata'], delete: true },
    policies: [
      'delete to authenticated: Users can delete messages of their own conversations',
      'insert to authenticated: Members can add their own messages to their own conversations',
      'select to authenticated: Users can read messages of their own conversations',
      'update to authenticated: Members can edit their own messages in their own conversations',
    ],
  },
  'public.posts': {
    anon: { select: true },
    authenticated: { select: true, insert: ['id', 'tenant_id', 'author_id', 'title', 'content', 'excerpt', 'slug', 'published', 'featured', 'metadata', 'reading_time_minutes'], update: ['title', 'content', 'excerpt', 'slug', 'published', 'featured', 'metadata', 'reading_time_minutes'], delete: true },
    policies: [
      'delete to authenticated: Creators and admins can delete rows',
      'insert to authenticated: Members can create rows as themselves',
      'select to anon, authenticated: Anyone can read published posts',
      'select to authenticated: Members can read their tenant\'s rows',
      'update to authenticated: Creators and admins can update rows',
    ],
  },
  'public.projects': {
    anon: { select: true },
    authenticated: { select: true, insert: ['id', 'tenant_id', 'user_id', 'name', 'description', 'status', 'metadata'], update: ['name', 'description', 'status', 'metadata'], delete: true },
    policies: [
      'delete to authenticated: Creators and admins can delete rows',
      'insert to authenticated: Members can create rows as themselves',
      'select to authenticated: Members can read their tenant\'s rows',
      'update to authenticated: Creators and admins can update rows',
    ],
  },
  'public.subscription_usage': {
    anon: { select: true },
    authenticated: { select: true },
    policies: [
      'select to authenticated: Owners and admins can read their tenant\'s usage',
    ],
  },
  'public.subscriptions': {
    anon: { select: true },
    authenticated: { select: true },
    policies: [
      'select to authenticated: Owners and admins can read their tenant\'s subscriptions',
    ],
  },
  'public.tenant_invitations': {
    anon: { select: true },
    authenticated: { select: true },
    policies: [
      'select to authenticated: Invitees can read invitations to their confirmed email',
      'select to authenticated: Owners and admins can read their tenant\'s invitations',
    ],
  },
  'public.tenant_settings': {
    anon: { select: true },
    authenticated: { select: true, insert: ['tenant_id', 'key', 'value'], update: ['value'], delete: true },
    policies: [
      'delete to authenticated: Owners and admins can delete settings other than limits',
      'insert to authenticated: Owners and admins can create settings other than limits',
      'select to authenticated: Members can read their tenant\'s settings',
      'update to authenticated: Owners and admins can change settings other than limits',
    ],
  },
  'public.tenant_users': {
    anon: { select: true },
    authenticated: { select: true, update: ['role'], delete: true },
    policies: [
      'delete to authenticated: Owners and admins can remove members, and anyone can leave',
      'select to authenticated: Members can read the memberships of their tenants',
      'update to authenticated: Owners and admins can change roles, admins below owner',
    ],
  },
  'public.tenants': {
    anon: { select: true },
    authenticated: { select: true, update: ['name', 'slug'], delete: true },
    policies: [
      'delete to authenticated: Owners can delete the active tenant',
      'select to authenticated: Members can read their tenants',
      'update to authenticated: Owners and admins can update the active tenant',
    ],
  },
  'public.uploads': {
    anon: { select: true },
    authenticated: { select: true, insert: ['id', 'tenant_id', 'user_id', 'project_id', 'filename', 'original_name', 'path', 'size_bytes', 'mime_type', 'metadata'], update: ['project_id', 'metadata'], delete: true },
    policies: [
      'delete to authenticated: Creators and admins can delete rows',
      'insert to authenticated: Members can create rows as themselves',
      'select to authenticated: Members can read their tenant\'s rows',
      'update to authenticated: Creators and admins can update rows',
    ],
  },
  'public.users': {
    anon: { select: true },
    authenticated: { select: true, update: ['name', 'avatar_url'] },
    policies: [
      'select to authenticated: Users can read their own profile and those of people sharing a ',
      'update to authenticated: Users can update their own profile',
    ],
  },};

/** Every function anon or authenticated may execute, with what it lets each of them do. */
export const FUNCTION_ACCESS: Record<string, Partial<Record<ApiRoleName, string>>> = {
  'auth.jwt()': { anon: 'read their own claims', authenticated: 'read their own claims' },
  'auth.role()': { anon: 'read their own role claim', authenticated: 'read their own role claim' },
  'auth.uid()': { anon: 'read their user id (null)', authenticated: 'read their user id' },
  'private.active_tenant_id()': {
    anon: 'policy helper: null',
    authenticated: 'policy helper: the claimed tenant if they are a member of it',
  },
  'private.active_tenant_role()': { anon: 'policy helper: null', authenticated: 'policy helper: their role in the active tenant' },
  'private.my_tenant_ids()': { anon: 'policy helper: nothing', authenticated: 'policy helper: the tenants they belong to' },
  'private.authenticate_api_key(p_key_hash text)': {
    anon: 'resolve a live key by its hash to its user and tenant (the gateway, before it knows who calls)',
  },
  'private.caller_confirmed_email()': { authenticated: 'policy helper: their email address, if confirmed' },
  'private.caller_uses_api_key()': { authenticated: 'policy helper: whether the request came with an API key' },
  'private.charge_request(p_request text, p_type text, p_tenant_id uuid, p_user_id uuid, p_reason text, p_metadata jsonb)': {
    authenticated: 'charge their own balance for a request (the trigger on paid tables calls it; nothing else is gained)',
  },
  'public.published_post_id(p_tenant_slug text, p_slug text)': {
    anon: 'find a published post by slugs',
    authenticated: 'find a published post by slugs',
  },
  'public.create_tenant(p_name text, p_slug text)': { authenticated: 'create a tenant on the FREE plan and become its OWNER' },
  'public.invite_tenant_member(p_email text, p_role tenant_role)': {
    authenticated: 'as ADMIN and up, invite an email address (an OWNER only by an OWNER); adds nobody',
  },
  'public.accept_tenant_invitation(p_invitation_id uuid)': { authenticated: 'join a tenant that invited their confirmed email' },
  'public.decline_tenant_invitation(p_invitation_id uuid)': { authenticated: 'decline an invitation to their confirmed email' },
  'public.revoke_tenant_invitation(p_invitation_id uuid)': { authenticated: 'as ADMIN and up, withdraw a pending invitation' },
  'public.credit_balance()': { authenticated: 'read their balance in the active tenant' },
  'public.spend_credits(p_amount integer, p_reason text, p_metadata jsonb)': {
    authenticated: 'as MEMBER and up, spend their own credits (never below zero)',
  },
  'public.grant_credits(p_user_id uuid, p_amount integer, p_reason text, p_kind credit_kind, p_tenant_id uuid, p_metadata jsonb)': {
    authenticated: 'nothing: refused unless the request runs as service_role',
  },
  'public.allocate_credits(p_user_id uuid, p_amount integer, p_reason text, p_metadata jsonb)': {
    authenticated: 'as ADMIN and up, move credits from the tenant pool to a member, never beyond the pool',
  },
  'public.tenant_credit_pool()': { authenticated: 'as ADMIN and up, read the active tenant\'s pool' },
  'public.revoke_api_key(p_key_id uuid)': {
    authenticated: 'revoke their own key, or any key of the active tenant as ADMIN and up; for good',
  },
};
