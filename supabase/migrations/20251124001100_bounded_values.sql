-- Every value a request can read has a size the gateway's cost limit can count on: JSON values
-- hold at most 64 KiB (metadata, inputs, results, settings), and the text columns that had no
-- bound get one. With these, the cost of a query bounds the bytes it reads, and so the memory
-- one request can take (src/limits/cost.ts). NOT VALID: rows written before keep their size
-- until someone trims them (then `alter table ... validate constraint`); new writes are checked.

do $$
declare
  target record;
begin
  for target in
    select c.table_name, c.column_name
    from information_schema.columns c
    join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name and t.table_type = 'BASE TABLE'
    where c.table_schema = 'public' and c.data_type = 'jsonb' and c.table_name <> 'audit_logs'
  loop
    execute format(
      'alter table public.%I add constraint %I check (octet_length(%I::text) <= 65536) not valid',
      target.table_name, target.table_name || '_' || target.column_name || '_size_check', target.column_name);
  end loop;
end
$$;

alter table public.content_generations add constraint content_generations_output_size_check
  check (char_length(output) <= 1000000) not valid;
alter table public.contract_analyses add constraint contract_analyses_extracted_text_size_check
  check (char_length(extracted_text) <= 1000000) not valid;
alter table public.localization_analyses add constraint localization_analyses_product_description_size_check
  check (char_length(product_description) <= 10000) not valid;
