-- Exact vector search inside one tenant (src/search/ranking.ts) reads every embedding of the
-- tenant. Through the tenant's btree index and then the table, each row costs a heap page of
-- its own (a tenant's rows are spread through the table): about 4 µs a row, 90 ms for 20,000.
-- These indexes carry the embedding itself, in tenant order, so the same scan is an index-only
-- scan of contiguous pages: about 1 µs a row. They cost the embedding's size (1.5 KB a row)
-- once more on disk. Measured: README, "Search recall and latency".
create index analyses_tenant_id_embedding_idx on public.analyses (tenant_id) include (id, embedding)
  where embedding is not null;
create index posts_tenant_id_embedding_idx on public.posts (tenant_id) include (id, embedding)
  where embedding is not null;
