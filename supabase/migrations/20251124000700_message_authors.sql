-- Messages: clients write their own words only. Adding or editing a message takes MEMBER
-- or higher, like every other write to tenant content, and only USER messages come from
-- clients; ASSISTANT and SYSTEM messages are service_role's (the worker's) to write.

drop policy "Users can add messages to their own conversations" on public.messages;
create policy "Members can add their own messages to their own conversations"
  on public.messages for insert to authenticated
  with check (
    tenant_id = (select private.active_tenant_id())
    and (select private.active_tenant_role()) >= 'MEMBER'
    and role = 'USER'
    and exists (select 1 from public.conversations c where c.id = messages.conversation_id)
  );

drop policy "Users can update messages of their own conversations" on public.messages;
create policy "Members can edit their own messages in their own conversations"
  on public.messages for update to authenticated
  using (
    tenant_id = (select private.active_tenant_id())
    and (select private.active_tenant_role()) >= 'MEMBER'
    and role = 'USER'
    and exists (select 1 from public.conversations c where c.id = messages.conversation_id)
  )
  with check (
    tenant_id = (select private.active_tenant_id())
    and role = 'USER'
    and exists (select 1 from public.conversations c where c.id = messages.conversation_id)
  );

-- A new message moves its conversation's updated_at, which clients may no longer write.
create or replace function private.touch_conversation() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  update public.conversations set updated_at = now() where id = new.conversation_id;
  return null;
end;
$$;
create trigger touch_conversation after insert on public.messages
  for each row execute function private.touch_conversation();
