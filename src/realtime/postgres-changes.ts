import type { Delivery } from './hub.ts';
import type { Binding } from './supabase-join.ts';

// What one change means to a Supabase channel: the `postgres_changes` payloads its bindings
// (event, table, filter, selected columns) ask for, in the shape realtime-js decodes. Bindings
// that select the same columns share one payload, naming all their ids.

export type PostgresChangesPayload = {
  ids: number[];
  data: Record<string, unknown>;
};

export function postgresChanges(bindings: readonly Binding[], { change, row }: Delivery): PostgresChangesPayload[] {
  const record = row ?? {};
  const oldRecord: Record<string, unknown> = { id: change.id };
  if (change.op === 'DELETE') {
    oldRecord.tenant_id = change.tenant;
    if (change.project) oldRecord.project_id = change.project;
  }
  if (change.op !== 'INSERT' && change.previous !== null) oldRecord.status = change.previous;
  // A deletion is matched on what is known of the row it removed.
  const matched = change.op === 'DELETE' ? oldRecord : record;
  const bySelect = new Map<string, Binding[]>();
  for (const binding of bindings) {
    if (binding.event !== '*' && binding.event !== change.op) continue;
    if (binding.table && binding.table !== change.table) continue;
    if (!binding.filter.matches(matched)) continue;
    const key = binding.select?.join(',') ?? '';
    bySelect.set(key, [...(bySelect.get(key) ?? []), binding]);
  }
  return [...bySelect.values()].map((sharing) => {
    const { select } = sharing[0]!;
    const data: Record<string, unknown> = {
      schema: 'public',
      table: change.table,
      commit_timestamp: change.at,
      type: change.op,
      // The row is JSON already typed (to_jsonb): no column types, so realtime-js converts nothing.
      columns: [],
      errors: null,
    };
    if (change.op !== 'DELETE') data.record = pick(record, select);
    if (change.op !== 'INSERT') data.old_record = pick(oldRecord, select);
    return { ids: sharing.map((binding) => binding.reply.id), data };
  });
}

function pick(row: Record<string, unknown>, columns?: readonly string[]): Record<string, unknown> {
  if (!columns) return row;
  return Object.fromEntries(columns.filter((column) => Object.hasOwn(row, column)).map((column) => [column, row[column]]));
}
