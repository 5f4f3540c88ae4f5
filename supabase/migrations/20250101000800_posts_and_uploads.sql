-- Posts (published ones are public, drafts stay in their tenant) and file uploads.

create table public.posts (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  author_id uuid not null references public.users (id) on delete cascade,
  title text not null check (char_length(title) between 1 and 300),
  content text check (char_length(content) <= 200000),
  excerpt text check (char_length(excerpt) <= 1000),
  slug text not null check (slug ~ '^[a-z0-9]+(?:-[a-z0-9]+)*$' and char_length(slug) <= 200),
  published boolean not null default false,
  featured boolean not null default false,
  published_at timestamptz,
  metadata jsonb not null default '{}'::jsonb,
  reading_time_minutes integer check (reading_time_minutes >= 0),
  views integer not null default 0 check (views >= 0),
  shares integer not null default 0 check (shares >= 0),
  embedding extensions.vector(384),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (tenant_id, slug)
);
comment on column public.posts.metadata is 'SEO fields (metaTitle, metaDescription, keywords) and tags.';
create index posts_author_id_idx on public.posts (author_id);
create index posts_published_idx on public.posts (published_at desc) where published;
create index posts_tenant_id_created_at_idx on public.posts (tenant_id, created_at desc);
create index posts_embedding_idx on public.posts using hnsw (embedding extensions.vector_cosine_ops);

create or replace function private.stamp_published_at() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.published and new.published_at is null then
    new.published_at := now();
  elsif not new.published then
    new.published_at := null;
  end if;
  return new;
end;
$$;
create trigger stamp_published_at before insert or update of published on public.posts
  for each row execute function private.stamp_published_at();
create trigger set_updated_at before update on public.posts
  for each row execute function private.set_updated_at();

call private.apply_tenant_content_policies('public.posts', 'author_id');
grant select on public.posts to anon;
create policy "Anyone can read published posts"
  on public.posts for select to anon, authenticated
  using (published);

create table public.uploads (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  user_id uuid not null references public.users (id) on delete cascade,
  project_id uuid,
  filename text not null check (char_length(filename) between 1 and 255),
  original_name text not null check (char_length(original_name) between 1 and 255),
  path text not null check (char_length(path) between 1 and 1024),
  size_bytes bigint not null check (size_bytes >= 0),
  mime_type text not null check (mime_type ~ '^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$'),
  status public.upload_status not null default 'PENDING',
  metadata jsonb not null default '{}'::jsonb,
  processed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (project_id, tenant_id) references public.projects (id, tenant_id) on delete set null (project_id)
);
create index uploads_tenant_id_created_at_idx on public.uploads (tenant_id, created_at desc);
create index uploads_user_id_idx on public.uploads (user_id);
create index uploads_project_id_idx on public.uploads (project_id);

create trigger set_updated_at before update on public.uploads
  for each row execute function private.set_updated_at();

call private.apply_tenant_content_policies('public.uploads');
