-- The HNSW indexes of analyses and posts are rebuilt with more links per node (m 24, default
-- 16) and a wider search while building (ef_construction 128, default 64). On 1,000,000
-- clustered 384-d rows (npm run bench:search), the default graph found 0.895 of the true top 10
-- without any filter (some queries never reached their cluster: 0 of 10), and tenants above the
-- exact-scan threshold got 0.82-0.93; this graph gives 0.985 unfiltered and 0.988-0.996 per
-- tenant. It costs a slower build (about 2x) and a larger index. On a large table this migration
-- rebuilds the index while holding writes to the table: run it in a quiet hour, or build the new
-- index first with CREATE INDEX CONCURRENTLY under another name.
drop index public.analyses_embedding_idx;
create index analyses_embedding_idx on public.analyses
  using hnsw (embedding extensions.vector_cosine_ops) with (m = 24, ef_construction = 128);
drop index public.posts_embedding_idx;
create index posts_embedding_idx on public.posts
  using hnsw (embedding extensions.vector_cosine_ops) with (m = 24, ef_construction = 128);
