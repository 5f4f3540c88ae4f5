import pg from 'pg';
import type { Logger } from '../observability/logger.ts';

// How NOTIFY reaches a process: PGlite's own listen embedded, or on a server a connection of its
// own (LISTEN holds a session, so it cannot come from the pool). The realtime change feed
// (src/realtime/change-feed.ts) listens through one of these.

/** Where notifications come from: PGlite's own listen, or a dedicated PostgreSQL connection. */
export interface NotificationSource {
  /**
   * Calls onPayload with each NOTIFY on `channel` until the returned function is called;
   * onState(false) when notifications may be lost from then on (the connection dropped),
   * onState(true) once they are heard again.
   */
  listen(channel: string, onPayload: (payload: string) => void, onState?: (listening: boolean) => void): Promise<() => Promise<void>>;
}

/**
 * Notifications over a dedicated connection of its own (LISTEN holds a session, so it cannot
 * come from a pool), opened again with backoff when it drops. Changes made while it was down
 * are not replayed; the drop is reported (onState), so subscribers can be told to re-read.
 */
export function postgresNotifications(url: string, logger?: Logger): NotificationSource {
  return {
    async listen(channel, onPayload, onState) {
      let client: pg.Client | undefined;
      let stopped = false;
      let retryMs = 500;
      let timer: NodeJS.Timeout | undefined;
      const connect = async (): Promise<void> => {
        const next = new pg.Client({ connectionString: url });
        next.on('notification', (message) => {
          if (message.channel === channel) onPayload(message.payload ?? '');
        });
        let lost = false;
        const lose = (error?: Error) => {
          if (lost || stopped) return;
          lost = true;
          logger?.warn({ err: error }, 'realtime: the notification connection was lost; reconnecting');
          void next.end().catch(() => undefined);
          onState?.(false);
          schedule();
        };
        next.on('error', lose);
        next.on('end', () => lose());
        await next.connect();
        await next.query(`listen ${pg.escapeIdentifier(channel)}`);
        client = next;
        retryMs = 500;
        onState?.(true);
      };
      const schedule = () => {
        if (stopped || timer) return;
        client = undefined;
        timer = setTimeout(() => {
          timer = undefined;
          connect().catch((error: unknown) => {
            logger?.warn({ err: error }, `realtime: reconnecting the notification connection in ${retryMs} ms`);
            retryMs = Math.min(retryMs * 2, 30_000);
            schedule();
          });
        }, retryMs);
      };
      await connect();
      return async () => {
        stopped = true;
        clearTimeout(timer);
        await client?.end().catch(() => undefined);
      };
    },
  };
}
