import { withClaims } from '../session/claims.ts';
import type { Database } from '../db/database.ts';

const MINUTE = 60_000;

interface Tally {
  /** Every process's count at the last flush, this process's included. */
  known: number;
  /** Counted here since the last flush. */
  pending: number;
}

export interface Decision {
  allowed: boolean;
  /** Whole seconds until the key's estimate falls below its limit; set when refused. */
  retryAfterSeconds: number;
  /** The key that refused, when one did. */
  refusedBy?: string;
}

export interface RequestCounterOptions {
  /** How often counts are flushed to, and read back from, the database. */
  flushIntervalMs?: number;
  now?: () => number;
}

/** `YYYY-MM` in UTC, the period monthly usage is metered by. */
export const monthOf = (time: number) => new Date(time).toISOString().slice(0, 7);

/**
 * Request counts shared by every gateway process through Postgres, without a write per
 * request. Each process decides from the totals read at the last flush plus what it has counted
 * since, and flushes its counts (one statement for the rate windows, one for the monthly API
 * calls) every `flushIntervalMs`. Rates are sliding-window estimates over the current and the
 * previous minute. With P processes, a key can overshoot its limit by at most what the other
 * processes admit in one flush interval.
 */
export class RequestCounter {
  private readonly windows = new Map<string, Map<number, Tally>>();
  private readonly monthly = new Map<string, Tally & { period: string; touched: number }>();
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private readonly now: () => number;
  readonly flushIntervalMs: number;

  constructor(
    private readonly db: Database,
    options: RequestCounterOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.flushIntervalMs = options.flushIntervalMs ?? 1_000;
  }

  /** Admits one request against every key's limit, counting it only when all of them admit it. */
  admit(limits: { key: string; perMinute: number }[]): Decision {
    const now = this.now();
    for (const { key, perMinute } of limits) {
      if (this.estimate(key, now) + 1 > perMinute) {
        return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((MINUTE - (now % MINUTE)) / 1000)), refusedBy: key };
      }
    }
    const window = Math.floor(now / MINUTE);
    for (const { key } of limits) this.tally(key, window).pending += 1;
    return { allowed: true, retryAfterSeconds: 0 };
  }

  /** Admits one API call against a tenant's monthly quota, counting it when admitted. */
  admitMonthly(tenantId: string, quota: number): Decision & { used: number } {
    const now = this.now();
    const period = monthOf(now);
    let tally = this.monthly.get(tenantId);
    if (!tally || tally.period !== period) {
      tally = { known: 0, pending: 0, period, touched: now };
      this.monthly.set(tenantId, tally);
    }
    tally.touched = now;
    const used = tally.known + tally.pending;
    if (used >= quota) {
      const nextMonth = new Date(now);
      nextMonth.setUTCMonth(nextMonth.getUTCMonth() + 1, 1);
      nextMonth.setUTCHours(0, 0, 0, 0);
      return { allowed: false, retryAfterSeconds: Math.ceil((nextMonth.getTime() - now) / 1000), used };
    }
    tally.pending += 1;
    return { allowed: true, retryAfterSeconds: 0, used: used + 1 };
  }

  /** The key's requests over the last minute: the previous window weighted by how much of it is still inside. */
  private estimate(key: string, now: number): number {
    const window = Math.floor(now / MINUTE);
    const byWindow = this.windows.get(key);
    if (!byWindow) return 0;
    const count = (w: number) => {
      const tally = byWindow.get(w);
      return tally ? tally.known + tally.pending : 0;
    };
    const elapsed = (now % MINUTE) / MINUTE;
    return count(window - 1) * (1 - elapsed) + count(window);
  }

  private tally(key: string, window: number): Tally {
    let byWindow = this.windows.get(key);
    if (!byWindow) this.windows.set(key, (byWindow = new Map()));
    let tally = byWindow.get(window);
    if (!tally) byWindow.set(window, (tally = { known: 0, pending: 0 }));
    return tally;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush().catch(() => {}), this.flushIntervalMs);
    this.timer.unref();
  }

  /** Stops the periodic flush and flushes what is left. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  /** Writes this process's counts since the last flush and reads every process's totals back. */
  flush(): Promise<void> {
    // One flush at a time: a slow database must not pile them up.
    this.flushing ??= this.flushOnce().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    const now = this.now();
    const current = Math.floor(now / MINUTE);
    this.forgetOldWindows(current);
    const rates = [...this.windows].flatMap(([key, byWindow]) =>
      [...byWindow].map(([window, tally]) => ({ key, window, tally, delta: tally.pending })),
    );
    const period = monthOf(now);
    const calls = [...this.monthly]
      .filter(([, tally]) => tally.period === period && (tally.pending > 0 || now - tally.touched < MINUTE))
      .map(([tenantId, tally]) => ({ tenantId, tally, delta: tally.pending }));
    if (rates.length === 0 && calls.length === 0) return;

    const { rateRows, callRows } = await withClaims(this.db, { role: 'service_role' }, async (tx) => ({
      rateRows: rates.length
        ? (
            await tx.query<{ key: string; window_start: string; requests: string }>(
              'select key, window_start::text, requests::text from private.record_requests($1::text[], $2::bigint[], $3::integer[], $4::bigint)',
              [rates.map((r) => r.key), rates.map((r) => r.window), rates.map((r) => r.delta), current],
            )
          ).rows
        : [],
      callRows: calls.length
        ? (
            await tx.query<{ tenant_id: string; calls: string }>(
              'select tenant_id, calls::text from private.record_api_calls($1::uuid[], $2::integer[], $3)',
              [calls.map((c) => c.tenantId), calls.map((c) => c.delta), period],
            )
          ).rows
        : [],
    }));

    // What was counted while the flush ran stays pending for the next one.
    for (const rate of rates) rate.tally.pending -= rate.delta;
    for (const row of rateRows) {
      const tally = this.windows.get(row.key)?.get(Number(row.window_start));
      if (tally) tally.known = Number(row.requests);
    }
    for (const call of calls) call.tally.pending -= call.delta;
    for (const row of callRows) {
      const tally = this.monthly.get(row.tenant_id);
      if (tally && tally.period === period) tally.known = Number(row.calls);
    }
  }

  private forgetOldWindows(current: number): void {
    for (const [key, byWindow] of this.windows) {
      for (const [window, tally] of byWindow) {
        if (window < current - 1 && tally.pending === 0) byWindow.delete(window);
      }
      if (byWindow.size === 0) this.windows.delete(key);
    }
    for (const [tenantId, tally] of this.monthly) {
      if (tally.pending === 0 && this.now() - tally.touched > 10 * MINUTE) this.monthly.delete(tenantId);
    }
  }
}
