import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_TABLES } from '../support/content-tables.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { as, createWorld, insertRow, SERVICE, sqlState, type World } from '../support/world.ts';

let db: TestDatabase;
let world: World;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
});
afterAll(() => db?.close());

/**
 * A kind's lifecycle as the product defines it, written independently of
 * private.status_transitions so a wrong row there fails the matrix below.
 */
interface Lifecycle {
  table: string;
  /** How the database's message names a row of the table. */
  label: string;
  /** The values of the table's status enum, in declaration order. */
  statuses: readonly string[];
  /** Where each status may move; a status not listed is final. */
  moves: Readonly<Record<string, readonly string[]>>;
}

const WORK = ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED'] as const;
// Contracts and localizations: a human review may send the work back or settle it.
const REVIEWED: Lifecycle['moves'] = {
  PENDING: ['PROCESSING', 'FAILED'],
  PROCESSING: ['COMPLETED', 'FAILED', 'REVIEW_REQUIRED'],
  REVIEW_REQUIRED: ['PROCESSING', 'COMPLETED', 'FAILED'],
};

const LIFECYCLES: Lifecycle[] = [
  {
    table: 'analyses',
    label: 'analysis',
    statuses: WORK,
    moves: { PENDING: ['PROCESSING'], PROCESSING: ['COMPLETED', 'FAILED'] },
  },
  {
    table: 'content_generations',
    label: 'content generation',
    statuses: WORK,
    moves: { PENDING: ['PROCESSING', 'COMPLETED', 'FAILED'], PROCESSING: ['COMPLETED', 'FAILED'] },
  },
  { table: 'contract_analyses', label: 'contract analysis', statuses: [...WORK, 'REVIEW_REQUIRED'], moves: REVIEWED },
  { table: 'localization_analyses', label: 'localization analysis', statuses: [...WORK, 'REVIEW_REQUIRED'], moves: REVIEWED },
  {
    table: 'customer_behavior_analyses',
    label: 'customer behavior analysis',
    statuses: [...WORK, 'INSUFFICIENT_DATA'],
    moves: {
      PENDING: ['PROCESSING', 'FAILED'],
      PROCESSING: ['COMPLETED', 'FAILED', 'INSUFFICIENT_DATA'],
      INSUFFICIENT_DATA: ['PROCESSING', 'FAILED'],
    },
  },
  {
    table: 'compliance_monitoring',
    label: 'compliance monitoring',
    statuses: [...WORK, 'REVIEW_REQUIRED', 'URGENT_ATTENTION'],
    moves: {
      PENDING: ['PROCESSING', 'FAILED'],
      PROCESSING: ['COMPLETED', 'FAILED', 'REVIEW_REQUIRED', 'URGENT_ATTENTION'],
      REVIEW_REQUIRED: ['PROCESSING', 'COMPLETED', 'FAILED', 'URGENT_ATTENTION'],
      URGENT_ATTENTION: ['PROCESSING', 'COMPLETED', 'FAILED', 'REVIEW_REQUIRED'],
      // Monitoring is periodic: a completed review is re-run.
      COMPLETED: ['PROCESSING'],
    },
  },
  {
    table: 'learning_paths',
    label: 'learning path',
    statuses: [...WORK, 'IN_PROGRESS', 'ON_HOLD'],
    moves: {
      PENDING: ['PROCESSING', 'FAILED'],
      PROCESSING: ['COMPLETED', 'FAILED', 'IN_PROGRESS'],
      IN_PROGRESS: ['ON_HOLD', 'COMPLETED', 'FAILED'],
      ON_HOLD: ['IN_PROGRESS', 'FAILED'],
    },
  },
  {
    table: 'uploads',
    label: 'upload',
    statuses: [...WORK, 'DELETED'],
    moves: {
      PENDING: ['PROCESSING', 'COMPLETED', 'FAILED', 'DELETED'],
      PROCESSING: ['COMPLETED', 'FAILED', 'DELETED'],
      COMPLETED: ['DELETED'],
      FAILED: ['DELETED'],
    },
  },
];

describe('status transitions', () => {
  it('guard exactly the tables described here, whose statuses are the enums’ values', async () => {
    const { rows: guarded } = await db.owner.query<{ table: string }>(
      `select c.relname as table from pg_trigger t join pg_class c on c.oid = t.tgrelid
       where t.tgname = 'guard_status_transition' and c.relnamespace = 'public'::regnamespace order by 1`,
    );
    expect(guarded.map((row) => row.table)).toEqual(LIFECYCLES.map((kind) => kind.table).sort());
    for (const { table, statuses } of LIFECYCLES) {
      const { rows } = await db.owner.query<{ labels: string[] }>(
        `select array_agg(e.enumlabel::text order by e.enumsortorder) as labels
         from pg_attribute a join pg_enum e on e.enumtypid = a.atttypid
         where a.attrelid = $1::regclass and a.attname = 'status'`,
        [`public.${table}`],
      );
      expect({ table, statuses: rows[0]!.labels }).toEqual({ table, statuses });
    }
  });
});

describe.each(LIFECYCLES)('$table status', ({ table, label, statuses, moves }) => {
  const { minimalRow } = CONTENT_TABLES.find((content) => content.table === table)!;
  let seeded = 0;
  const pairs = statuses.flatMap((from) => statuses.map((to) => [from, to] as const));
  // Staying put is no move: a worker records progress without changing the status.
  const allowed = (from: string, to: string) => from === to || (moves[from] ?? []).includes(to);
  const rowOf = async (id: string) =>
    (await db.owner.query<{ row: { status: string } }>(`select to_jsonb(t) as row from public.${table} t where id = $1`, [id])).rows[0]!.row;

  it.each(pairs)('%s -> %s, as service_role', async (from, to) => {
    const id = await insertRow(db.owner, table, {
      tenant_id: world.a.id,
      user_id: world.a.member.id,
      ...minimalRow(++seeded),
      status: from,
    });
    const before = await rowOf(id);
    const move = as(db.gateway, SERVICE, `update public.${table} set status = $2 where id = $1`, [id, to]);
    if (allowed(from, to)) {
      expect(await sqlState(move)).toBe('ok');
      expect((await rowOf(id)).status).toBe(to);
    } else {
      const onwards = [...(moves[from] ?? [])].sort().join(', ') || 'nothing, it is final';
      expect(await sqlState(move)).toBe('GW003');
      await expect(move).rejects.toThrow(`${label} status cannot move from ${from} to ${to}; allowed from ${from}: ${onwards}`);
      expect(await rowOf(id)).toEqual(before);
    }
  });
});
