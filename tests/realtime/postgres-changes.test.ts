import { describe, expect, it } from 'vitest';
import type { Delivery } from '../../src/realtime/hub.ts';
import { postgresChanges } from '../../src/realtime/postgres-changes.ts';
import { channelSpec } from '../../src/realtime/supabase-join.ts';

// What a change means to a Supabase channel's bindings, as realtime-js receives it.
const bindingsOf = (...postgresChanges: Record<string, unknown>[]) =>
  channelSpec('realtime:watch', { config: { postgres_changes: postgresChanges } }).bindings;

const TENANT = '10000000-0000-4000-8000-000000000001';
const PROJECT = '30000000-0000-4000-8000-000000000003';
const ID = '20000000-0000-4000-8000-000000000002';
const AT = '2026-11-24T10:00:00.000Z';

const delivery = (op: 'INSERT' | 'UPDATE' | 'DELETE', status: string | null, previous: string | null): Delivery => ({
  change: { table: 'analyses', op, id: ID, tenant: TENANT, project: PROJECT, status, previous, at: AT },
  row: op === 'DELETE' ? null : { id: ID, tenant_id: TENANT, project_id: PROJECT, status, input: 'text' },
});

describe('postgres_changes of one change', () => {
  it('sends one payload per distinct selection, naming every binding it answers', () => {
    const bindings = bindingsOf(
      { event: '*', schema: 'public', table: 'analyses' },
      { event: 'UPDATE', schema: 'public', table: 'analyses', filter: `status=eq.COMPLETED` },
      { event: 'UPDATE', schema: 'public', select: ['id', 'status'] },
      { event: 'INSERT', schema: 'public', table: 'analyses' },
      { event: 'UPDATE', schema: 'public', table: 'uploads' },
    );
    expect(postgresChanges(bindings, delivery('UPDATE', 'COMPLETED', 'PROCESSING'))).toEqual([
      {
        ids: [1, 2],
        data: {
          schema: 'public',
          table: 'analyses',
          commit_timestamp: AT,
          type: 'UPDATE',
          columns: [],
          errors: null,
          record: { id: ID, tenant_id: TENANT, project_id: PROJECT, status: 'COMPLETED', input: 'text' },
          old_record: { id: ID, status: 'PROCESSING' },
        },
      },
      {
        ids: [3],
        data: expect.objectContaining({ record: { id: ID, status: 'COMPLETED' }, old_record: { id: ID, status: 'PROCESSING' } }),
      },
    ]);
    expect(postgresChanges(bindings, delivery('UPDATE', 'FAILED', 'PROCESSING')).map((payload) => payload.ids)).toEqual([[1], [3]]);
  });

  it('matches a deletion on what is known of the removed row, and sends only its old record', () => {
    const bindings = bindingsOf(
      { event: 'DELETE', schema: 'public', table: 'analyses', filter: `project_id=eq.${PROJECT}` },
      { event: 'DELETE', schema: 'public', table: 'analyses', filter: `input=eq.text` },
    );
    const [only, ...others] = postgresChanges(bindings, delivery('DELETE', null, 'COMPLETED'));
    expect(others).toEqual([]);
    expect(only!.ids).toEqual([1]);
    expect(only!.data).not.toHaveProperty('record');
    expect(only!.data.old_record).toEqual({ id: ID, tenant_id: TENANT, project_id: PROJECT, status: 'COMPLETED' });
  });

  it('sends an insertion without an old record', () => {
    const [only] = postgresChanges(bindingsOf({ event: 'INSERT', schema: 'public' }), delivery('INSERT', 'PENDING', null));
    expect(only!.data).not.toHaveProperty('old_record');
    expect(only!.data.record).toMatchObject({ status: 'PENDING' });
  });
});
