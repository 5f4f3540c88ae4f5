import { DomainError } from '../errors.ts';
import type { Database } from '../db/database.ts';
import type { Logger } from '../observability/logger.ts';
import { claimsStatement, isSignedIn, type RequestClaims } from '../session/claims.ts';
import type { Change, ChangeFeed } from './change-feed.ts';
import { isLifecycleTable, LifecycleRows, type LifecycleTable } from './lifecycle-rows.ts';

// Realtime subscribers of one gateway process, whatever protocol they speak (GraphQL over SSE or
// WebSocket, Supabase Realtime). A subscriber follows one tenant, the one its token names, and
// is authorised when it subscribes by asking the database, as the subscriber, whether that
// tenant is its active tenant.
//
// Database work per change does not grow with the number of subscribers. Every table with a
// lifecycle has one SELECT policy, `tenant_id = (select private.active_tenant_id())`, whatever
// the member's role (tests/realtime/hub.test.ts keeps that premise checked): what one active
// member of a tenant may read of such a row, every active member may. So a change is read once,
// under row-level security as one subscriber of the row's tenant, and the row handed to all of
// them. Changes of access (a membership removed, a tenant suspended, a user deactivated) arrive
// on the same feed and end the subscriptions they concern; a token's expiry ends its own.


/** One change as subscribers receive it. */
export interface Delivery {
  change: Change & { table: LifecycleTable };
  /**
   * The row after the change, its columns as the database's JSON gives them (snake_case),
   * exactly those the `authenticated` role may select, as they are when read (other columns may
   * already show a later change) with the status of this change; null for a deletion, or for a
   * row deleted before it could be read.
   */
  row: Record<string, unknown> | null;
}

export interface Subscriber {
  /** A signed-in member's verified claims; their tenant is the one the subscriber follows. */
  claims: RequestClaims;
  onChange(delivery: Delivery): void;
  /** The subscription is over and will receive nothing more; called at most once. */
  onEnd(error: DomainError): void;
}

export interface Subscription {
  /** Replaces the claims (a refreshed token of the same user and tenant), re-checked by the database. */
  renew(claims: RequestClaims): Promise<void>;
  /** Leaves; nothing of the subscriber is kept. */
  close(): void;
}

interface Entry {
  subscriber: Subscriber;
  claims: RequestClaims;
  userId: string;
  tenantId: string;
  /** Still being authorised: hears changes of access (which may end it) but receives no changes. */
  pending: boolean;
  /** Why it was ended while pending, for subscribe() to throw. */
  endedWith?: DomainError;
  expiry?: NodeJS.Timeout;
}

interface TenantGroup {
  entries: Set<Entry>;
  leave: () => void;
  /** Changes of this tenant are read and delivered one after another, in the order announced. */
  queue: Promise<void>;
}

export interface HubStats {
  subscribers: number;
  tenants: number;
  /** Changes of a lifecycle table announced for tenants with subscribers. */
  changes: number;
  /** Rows read to deliver them: at most one per change, however many subscribers receive it. */
  reads: number;
  deliveries: number;
}

/** The user and tenant a subscriber's claims name; refused without a signed-in member's unexpired token. */
function signedInMember(claims: RequestClaims): { userId: string; tenantId: string } {
  if (!isSignedIn(claims)) {
    throw new DomainError(
      claims.role === 'service_role' ? 'FORBIDDEN' : 'UNAUTHENTICATED',
      'subscriptions follow one tenant: sign in as one of its members',
    );
  }
  if (typeof claims.exp === 'number' && claims.exp * 1000 <= Date.now()) {
    throw new DomainError('UNAUTHENTICATED', 'the token has expired');
  }
  const tenantId = claims.app_metadata?.tenant_id;
  if (typeof tenantId !== 'string' || !UUID.test(tenantId)) {
    throw new DomainError('FORBIDDEN', 'the token names no tenant (app_metadata.tenant_id) to follow');
  }
  return { userId: claims.sub, tenantId };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Open subscriptions one user may hold in one gateway process (GraphQL and Supabase Realtime together). */
export const MAX_SUBSCRIPTIONS_PER_USER = 100;
/** setTimeout's longest delay; a later expiry is checked again when it fires. */
const MAX_TIMER_MS = 2_147_483_647;

export class RealtimeHub {
  private readonly groups = new Map<string, TenantGroup>();
  private readonly counts = { changes: 0, reads: 0, deliveries: 0 };

  /** Reads the rows changes are delivered with (and tells which columns a subscriber may read). */
  readonly rows: LifecycleRows;
  /** Open subscriptions per user in this process, for MAX_SUBSCRIPTIONS_PER_USER. */
  private readonly perUser = new Map<string, number>();

  constructor(
    private readonly feed: ChangeFeed,
    private readonly db: Database,
    private readonly logger?: Logger,
    /** A user past this many open subscriptions in the process is refused more (RATE_LIMITED). */
    private readonly maxPerUser = MAX_SUBSCRIPTIONS_PER_USER,
  ) {
    this.rows = new LifecycleRows(db);
    // Changes made while the feed was down are not replayed: no subscriber may go on as if none were missed.
    feed.onInterruption(() =>
      this.endAll(() => new DomainError('DATABASE_UNAVAILABLE', 'the change feed was interrupted and changes may have been missed; subscribe again and re-read')),
    );
  }

  /**
   * Authorises the subscriber through the database and starts handing it the changes of its
   * tenant. Refused with UNAUTHENTICATED without a signed-in member's unexpired token, FORBIDDEN
   * when the token's tenant is not one it is an active member of (TENANT_SUSPENDED when that
   * tenant is suspended or archived).
   */
  async subscribe(subscriber: Subscriber): Promise<Subscription> {
    const { userId, tenantId } = signedInMember(subscriber.claims);
    if (!this.feed.available) {
      throw new DomainError('DATABASE_UNAVAILABLE', 'the change feed is reconnecting to the database; subscribe again in a moment');
    }
    // Listening before asking the database: a membership removed or a tenant suspended while it
    // answers is heard, and ends the entry before it receives anything.
    const entry: Entry = { subscriber, claims: subscriber.claims, userId, tenantId, pending: true };
    this.add(entry);
    try {
      await this.authorise(subscriber.claims, tenantId);
    } catch (error) {
      this.remove(entry);
      throw error;
    }
    if (entry.endedWith) throw entry.endedWith;
    entry.pending = false;
    this.scheduleExpiry(entry);
    return {
      renew: async (claims) => {
        const renewed = signedInMember(claims);
        if (renewed.userId !== entry.userId || renewed.tenantId !== entry.tenantId) {
          throw new DomainError('FORBIDDEN', 'a renewed token must name the same user and tenant as the subscription');
        }
        await this.authorise(claims, renewed.tenantId);
        // Ended (or left) meanwhile: nothing to renew.
        if (!this.groups.get(entry.tenantId)?.entries.has(entry)) return;
        entry.claims = claims;
        this.scheduleExpiry(entry);
      },
      close: () => this.remove(entry),
    };
  }

  get stats(): HubStats {
    let subscribers = 0;
    for (const group of this.groups.values()) for (const entry of group.entries) if (!entry.pending) subscribers += 1;
    return { subscribers, tenants: this.groups.size, ...this.counts };
  }

  /** Ends every subscription (the process is stopping). */
  close(): void {
    this.endAll(() => new DomainError('DATABASE_UNAVAILABLE', 'the gateway is stopping; subscribe again'));
  }

  private endAll(error: () => DomainError): void {
    for (const group of [...this.groups.values()]) {
      for (const entry of [...group.entries]) this.end(entry, error());
    }
  }

  private add(entry: Entry): void {
    const open = this.perUser.get(entry.userId) ?? 0;
    // Each subscription holds memory and was authorised by a transaction: one user cannot pile them up.
    if (open >= this.maxPerUser) {
      throw new DomainError('RATE_LIMITED', `at most ${this.maxPerUser} subscriptions may be open at once per user; close one first`);
    }
    this.perUser.set(entry.userId, open + 1);
    let group = this.groups.get(entry.tenantId);
    if (!group) {
      const created: TenantGroup = { entries: new Set(), leave: () => undefined, queue: Promise.resolve() };
      created.leave = this.feed.subscribe(entry.tenantId, (change) => this.onFeed(created, change));
      this.groups.set(entry.tenantId, created);
      group = created;
    }
    group.entries.add(entry);
  }

  /** Asks the database, as the subscriber, whether the tenant is its active tenant. */
  private async authorise(claims: RequestClaims, tenantId: string): Promise<void> {
    const [access] = await this.db.transaction(
      async (tx) =>
        (
          await tx.query<{ active: boolean; status: string | null }>(
            `select private.active_tenant_id() is not null as active,
                    (select status::text from public.tenants where id = $1) as status`,
            [tenantId],
          )
        ).rows,
      claimsStatement(claims, { readOnly: true }),
    );
    if (!access?.active) {
      // A member still sees its suspended tenant's own row, so this names the reason to members only.
      if (access?.status && access.status !== 'ACTIVE') {
        throw new DomainError('TENANT_SUSPENDED', `the tenant is ${access.status}: nothing can be followed in it until it is active again`);
      }
      throw new DomainError('FORBIDDEN', 'you are not an active member of the tenant your token names');
    }
  }

  private scheduleExpiry(entry: Entry): void {
    clearTimeout(entry.expiry);
    entry.expiry = undefined;
    const exp = entry.claims.exp;
    if (typeof exp !== 'number') return;
    const delay = exp * 1000 - Date.now();
    entry.expiry = setTimeout(() => {
      if (exp * 1000 > Date.now()) return this.scheduleExpiry(entry);
      this.end(entry, new DomainError('UNAUTHENTICATED', 'the token has expired; subscribe again with a fresh one'));
    }, Math.min(Math.max(delay, 0), MAX_TIMER_MS));
    entry.expiry.unref();
  }

  private remove(entry: Entry): boolean {
    clearTimeout(entry.expiry);
    const group = this.groups.get(entry.tenantId);
    if (!group?.entries.delete(entry)) return false;
    const open = (this.perUser.get(entry.userId) ?? 1) - 1;
    if (open > 0) this.perUser.set(entry.userId, open);
    else this.perUser.delete(entry.userId);
    if (group.entries.size === 0) {
      group.leave();
      this.groups.delete(entry.tenantId);
    }
    return true;
  }

  private end(entry: Entry, error: DomainError): void {
    if (!this.remove(entry)) return;
    // Not yet handed back to its subscriber: subscribe() throws this instead.
    if (entry.pending) {
      entry.endedWith = error;
      return;
    }
    try {
      entry.subscriber.onEnd(error);
    } catch (failure) {
      this.logger?.error({ err: failure }, 'realtime: a subscriber failed to end');
    }
  }

  private onFeed(group: TenantGroup, change: Change): void {
    if (change.table === 'tenant_users' || change.table === 'users') {
      const [code, message] =
        change.table === 'tenant_users'
          ? (['FORBIDDEN', 'your membership of the tenant was removed'] as const)
          : (['FORBIDDEN', 'your account was deactivated'] as const);
      if (change.table === 'users' && change.status === 'ACTIVE') return;
      for (const entry of [...group.entries]) if (entry.userId === change.user) this.end(entry, new DomainError(code, message));
      return;
    }
    if (change.table === 'tenants') {
      if (change.status === 'ACTIVE') return;
      const error = new DomainError('TENANT_SUSPENDED', `the tenant is ${change.status ?? 'no longer active'}`);
      for (const entry of [...group.entries]) this.end(entry, error);
      return;
    }
    if (!isLifecycleTable(change.table)) return;
    const lifecycle = change as Delivery['change'];
    this.counts.changes += 1;
    group.queue = group.queue.then(() => this.deliver(group, lifecycle)).catch((error: unknown) => {
      this.logger?.error({ err: error, table: change.table, id: change.id }, 'realtime: a change could not be delivered');
    });
  }

  private async deliver(group: TenantGroup, change: Delivery['change']): Promise<void> {
    const readers = [...group.entries].filter((entry) => !entry.pending);
    if (readers.length === 0) return;
    let row: Record<string, unknown> | null = null;
    if (change.op !== 'DELETE') {
      row = await this.read(change, readers[0]!.claims);
      // The reader may have lost access an instant before the database says so on the feed: one
      // other member's read tells that apart from a row that is gone.
      const other = readers.find((entry) => entry.userId !== readers[0]!.userId);
      if (!row && other) row = await this.read(change, other.claims);
      // Still null: the row was deleted right after the change. The change itself, which names
      // the row and its statuses only, still reaches the members; its deletion follows.
      // Read later than the change, the row may already be further on: it carries the change's own status.
      if (row && change.status !== null) row = { ...row, status: change.status };
    }
    const delivery: Delivery = { change, row };
    for (const entry of readers) {
      if (entry.pending || !group.entries.has(entry)) continue;
      this.counts.deliveries += 1;
      try {
        entry.subscriber.onChange(delivery);
      } catch (error) {
        this.logger?.error({ err: error }, 'realtime: a subscriber failed to take a change');
      }
    }
  }

  private read(change: Delivery['change'], claims: RequestClaims): Promise<Record<string, unknown> | null> {
    this.counts.reads += 1;
    return this.rows.read(change.table, change.id, claims);
  }
}
