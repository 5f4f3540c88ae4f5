import { LIFECYCLE_TABLES, type LifecycleTable } from './lifecycle-rows.ts';
import { MAX_FIELD_BYTES } from './phoenix-frames.ts';
import { MATCH_ALL, parseRowFilter, type RowFilter } from './row-filter.ts';

// What a Supabase Realtime join (phx_join) asks for, checked before anything is authorised: the
// topic, private or public, broadcast options and postgres_changes bindings. Anything the gateway
// does not serve is a Refusal whose message is the reason realtime-js reports.

export const TOPIC_PREFIX = 'realtime:';
export const PRIVATE_TOPIC = /^tenant:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(:.+)?$/i;
const CHANGE_EVENTS = new Set(['*', 'INSERT', 'UPDATE', 'DELETE']);
const MAX_BINDINGS_PER_CHANNEL = 20;

/** Why a join is refused; its message is the reason the client reports. */
export class Refusal extends Error {}

/** One postgres_changes binding of a channel, as the client declared it and as it is matched. */
export interface Binding {
  /** What the join reply lists: the client's own parameters plus the server's id for them. */
  reply: Record<string, unknown> & { id: number };
  event: string;
  /** null: every lifecycle table (the client named none, or '*'). */
  table: LifecycleTable | null;
  filter: RowFilter;
  select?: readonly string[];
}

export interface ChannelSpec {
  isPrivate: boolean;
  self: boolean;
  ack: boolean;
  replicationReady: boolean;
  bindings: Binding[];
}

/** What a join asks for, or a Refusal saying why it cannot be served. */
export function channelSpec(topic: string, payload: Record<string, unknown>): ChannelSpec {
  if (!topic.startsWith(TOPIC_PREFIX) || topic.length === TOPIC_PREFIX.length) throw new Refusal('topics are realtime:<name>');
  if (Buffer.byteLength(topic) > MAX_FIELD_BYTES) throw new Refusal(`a topic may be at most ${MAX_FIELD_BYTES} bytes long`);
  const config = objectOr(payload.config);
  const broadcast = objectOr(config.broadcast);
  const isPrivate = config.private === true;
  if (broadcast.replay !== undefined) throw new Refusal('broadcast replay is not served: the gateway stores no broadcasts');
  const requested = Array.isArray(config.postgres_changes) ? config.postgres_changes : [];
  if (requested.length > MAX_BINDINGS_PER_CHANNEL) throw new Refusal(`a channel may hold at most ${MAX_BINDINGS_PER_CHANNEL} postgres_changes bindings`);
  const bindings = requested.map((params, index) => bindingOf(params, index + 1));
  if (isPrivate && !PRIVATE_TOPIC.test(topic.slice(TOPIC_PREFIX.length))) {
    throw new Refusal('FORBIDDEN: private channels are named tenant:<tenant id> or tenant:<tenant id>:<name>, the tenant your token names');
  }
  // Public channels are anyone's to join on Supabase: the gateway serves only what it can authorise.
  if (!isPrivate && bindings.length === 0) {
    throw new Refusal('FORBIDDEN: public channels are not served: use config.private true on topic tenant:<tenant id> for broadcasts, or listen to postgres_changes');
  }
  return { isPrivate, self: broadcast.self === true, ack: broadcast.ack === true, replicationReady: broadcast.replication_ready === true, bindings };
}

function bindingOf(value: unknown, id: number): Binding {
  const params = objectOr(value);
  const { event, schema, table, filter, select } = params;
  if (typeof event !== 'string' || !CHANGE_EVENTS.has(event)) throw new Refusal('VALIDATION_FAILED: a postgres_changes event is INSERT, UPDATE, DELETE or *');
  if (schema !== 'public') throw new Refusal(`VALIDATION_FAILED: postgres_changes are served for schema public only, not ${JSON.stringify(schema)}`);
  if (table !== undefined && table !== '*' && !(LIFECYCLE_TABLES as readonly unknown[]).includes(table)) {
    throw new Refusal(`VALIDATION_FAILED: postgres_changes are served for public.${LIFECYCLE_TABLES.join(', public.')}; not for ${JSON.stringify(table)}`);
  }
  if (filter !== undefined && filter !== null && typeof filter !== 'string') throw new Refusal('VALIDATION_FAILED: a postgres_changes filter is a string');
  if (select !== undefined && (!Array.isArray(select) || !select.every((column) => typeof column === 'string'))) {
    throw new Refusal('VALIDATION_FAILED: a postgres_changes select is a list of column names');
  }
  return {
    // Echoed as sent: realtime-js compares event, schema, table and filter with its own.
    reply: { ...pickDefined({ event, schema, table, filter, select }), id },
    event,
    table: table === undefined || table === '*' ? null : (table as LifecycleTable),
    filter: filter ? parseRowFilter(filter) : MATCH_ALL,
    select: select as string[] | undefined,
  };
}

function objectOr(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function pickDefined(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined));
}
