import type { Logger } from '../observability/logger.ts';
import type { NotificationSource } from '../db/notifications.ts';

// One process's view of the database's change feed (20251124001900_change_feed.sql): it listens
// once, on one connection, and hands each change to the listeners of the row's tenant, in
// memory. However many subscribers a process serves, the database sends each change to it once.

/** What NOTIFY gateway_changes announces: the row and its statuses, never its content (20251124001900, 20251124002000). */
export interface Change {
  table: string;
  op: 'INSERT' | 'UPDATE' | 'DELETE';
  id: string;
  tenant: string;
  /** The row's project, for rows that have one (20251124002000_access_changes.sql). */
  project?: string | null;
  /** The member concerned, for changes of access (tenant_users, users). */
  user?: string | null;
  status: string | null;
  previous: string | null;
  /** When the change was made, ISO 8601 UTC. */
  at: string;
}

export type ChangeListener = (change: Change) => void;

export const CHANGE_CHANNEL = 'gateway_changes';
const OPS = new Set(['INSERT', 'UPDATE', 'DELETE']);

/** A payload as the trigger writes it, or undefined for anything else. */
export function parseChange(payload: string): Change | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return undefined;
  }
  const change = value as Partial<Change> | null;
  if (
    !change || typeof change.table !== 'string' || typeof change.id !== 'string' || typeof change.tenant !== 'string' ||
    typeof change.op !== 'string' || !OPS.has(change.op) || typeof change.at !== 'string'
  ) {
    return undefined;
  }
  return {
    table: change.table,
    op: change.op,
    id: change.id,
    tenant: change.tenant,
    project: typeof change.project === 'string' ? change.project : null,
    user: typeof change.user === 'string' ? change.user : null,
    status: typeof change.status === 'string' ? change.status : null,
    previous: typeof change.previous === 'string' ? change.previous : null,
    at: change.at,
  };
}

export class ChangeFeed {
  private readonly byTenant = new Map<string, Set<ChangeListener>>();
  private readonly interruptionListeners = new Set<() => void>();
  private unlisten?: () => Promise<void>;
  private listening = false;

  constructor(
    private readonly source: NotificationSource,
    private readonly logger?: Logger,
  ) {}

  async start(): Promise<void> {
    this.unlisten ??= await this.source.listen(
      CHANGE_CHANNEL,
      (payload) => this.dispatch(payload),
      (listening) => (listening ? (this.listening = true) : this.interrupted()),
    );
    this.listening = true;
  }

  /** Whether changes are heard now: false before start, and while the connection is being reopened. */
  get available(): boolean {
    return this.listening;
  }

  /** Calls `listener` whenever changes may have been missed, until the returned function is called. */
  onInterruption(listener: () => void): () => void {
    this.interruptionListeners.add(listener);
    return () => void this.interruptionListeners.delete(listener);
  }

  private interrupted(): void {
    this.listening = false;
    this.logger?.warn('realtime: the change feed was interrupted; changes made meanwhile are not replayed');
    for (const listener of [...this.interruptionListeners]) {
      try {
        listener();
      } catch (error) {
        this.logger?.error({ err: error }, 'realtime: an interruption listener failed');
      }
    }
  }

  async stop(): Promise<void> {
    const unlisten = this.unlisten;
    this.unlisten = undefined;
    await unlisten?.();
  }

  /** Hands `listener` every change of the tenant's rows until the returned function is called. */
  subscribe(tenantId: string, listener: ChangeListener): () => void {
    let listeners = this.byTenant.get(tenantId);
    if (!listeners) {
      listeners = new Set();
      this.byTenant.set(tenantId, listeners);
    }
    listeners.add(listener);
    return () => {
      const current = this.byTenant.get(tenantId);
      if (!current?.delete(listener)) return;
      // An empty tenant leaves nothing behind.
      if (current.size === 0) this.byTenant.delete(tenantId);
    };
  }

  /** Listeners held, and tenants they belong to: what a disconnect must bring back down. */
  get size(): { listeners: number; tenants: number } {
    let listeners = 0;
    for (const set of this.byTenant.values()) listeners += set.size;
    return { listeners, tenants: this.byTenant.size };
  }

  private dispatch(payload: string): void {
    const change = parseChange(payload);
    if (!change) {
      this.logger?.warn({ payload: payload.slice(0, 200) }, `realtime: ignored a malformed ${CHANGE_CHANNEL} notification`);
      return;
    }
    const listeners = this.byTenant.get(change.tenant);
    if (!listeners) return;
    for (const listener of [...listeners]) {
      try {
        listener(change);
      } catch (error) {
        this.logger?.error({ err: error }, 'realtime: a change listener failed');
      }
    }
  }
}
