-- Nested pages (a project's newest analyses, a conversation's messages, a tenant's members)
-- are read as "the first N children of each parent, in the page's order". With an index on
-- (parent, order columns, id) the database walks N entries per parent and stops, so a page
-- costs what it returns however many children the parent has. Each replaces the index on the
-- parent column alone, which it also serves.

create index analyses_project_id_created_at_id_idx on public.analyses (project_id, created_at desc, id);
drop index public.analyses_project_id_idx;

create index content_generations_project_id_created_at_id_idx on public.content_generations (project_id, created_at desc, id);
drop index public.content_generations_project_id_idx;

create index uploads_project_id_created_at_id_idx on public.uploads (project_id, created_at desc, id);
drop index public.uploads_project_id_idx;

create index messages_conversation_id_created_at_id_idx on public.messages (conversation_id, created_at, id);
drop index public.messages_conversation_id_created_at_idx;

create index tenant_users_tenant_id_created_at_id_idx on public.tenant_users (tenant_id, created_at, id);
