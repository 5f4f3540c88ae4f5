-- Conversations and their messages: private to the user who owns them,
-- invisible even to the tenant's owners and admins.

create table public.conversations (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  user_id uuid not null references public.users (id) on delete cascade,
  title text check (char_length(title) <= 500),
  is_active boolean not null default true,
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, tenant_id)
);
create index conversations_tenant_id_user_id_idx on public.conversations (tenant_id, user_id, updated_at desc);
create index conversations_user_id_idx on public.conversations (user_id);

create table public.messages (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  conversation_id uuid not null,
  role public.message_role not null,
  content text not null check (char_length(content) between 1 and 100000),
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (conversation_id, tenant_id) references public.conversations (id, tenant_id) on delete cascade
);
create index messages_conversation_id_created_at_idx on public.messages (conversation_id, created_at);
create index messages_tenant_id_idx on public.messages (tenant_id);

create trigger set_updated_at before update on public.conversations
  for each row execute function private.set_updated_at();
create trigger set_updated_at before update on public.messages
  for each row execute function private.set_updated_at();

revoke all on public.conversations, public.messages from anon, authenticated;
grant select, insert, update, delete on public.conversations, public.messages to authenticated;
grant all on public.conversations, public.messages to service_role;
alter table public.conversations enable row level security;
alter table public.messages enable row level security;

create policy "Users can read their own conversations"
  on public.conversations for select to authenticated
  using (user_id = (select auth.uid()) and tenant_id = (select private.active_tenant_id()));
create policy "Members can start conversations as themselves"
  on public.conversations for insert to authenticated
  with check (
    user_id = (select auth.uid()) and tenant_id = (select private.active_tenant_id())
    and (select private.active_tenant_role()) >= 'MEMBER'
  );
create policy "Users can update their own conversations"
  on public.conversations for update to authenticated
  using (user_id = (select auth.uid()) and tenant_id = (select private.active_tenant_id()))
  with check (user_id = (select auth.uid()) and tenant_id = (select private.active_tenant_id()));
create policy "Users can delete their own conversations"
  on public.conversations for delete to authenticated
  using (user_id = (select auth.uid()) and tenant_id = (select private.active_tenant_id()));

-- The conversation subquery is itself filtered by the conversation policies above.
create policy "Users can read messages of their own conversations"
  on public.messages for select to authenticated
  using (
    tenant_id = (select private.active_tenant_id())
    and exists (select 1 from public.conversations c where c.id = messages.conversation_id)
  );
create policy "Users can add messages to their own conversations"
  on public.messages for insert to authenticated
  with check (
    tenant_id = (select private.active_tenant_id())
    and exists (select 1 from public.conversations c where c.id = messages.conversation_id)
  );
create policy "Users can update messages of their own conversations"
  on public.messages for update to authenticated
  using (
    tenant_id = (select private.active_tenant_id())
    and exists (select 1 from public.conversations c where c.id = messages.conversation_id)
  )
  with check (
    tenant_id = (select private.active_tenant_id())
    and exists (select 1 from public.conversations c where c.id = messages.conversation_id)
  );
create policy "Users can delete messages of their own conversations"
  on public.messages for delete to authenticated
  using (
    tenant_id = (select private.active_tenant_id())
    and exists (select 1 from public.conversations c where c.id = messages.conversation_id)
  );
