// The event feed of one open stream or WebSocket: periodic ticks, pushed (emit) events,
// per-feed sequence numbers and the optional `count` limit. Transport-agnostic: the SSE
// and WebSocket code only say how to frame an event and whether the peer keeps up.

import type { SessionEndReason, SessionStore, Session } from "./sessions.ts";

export type TickEvent = { type: "tick"; seq: number; origin: string; session: string; ts: number; client: string };
export type EmitEvent = { type: "emit"; seq: number; origin: string; session: string; data: unknown };
export type FeedEvent = TickEvent | EmitEvent;

/** Why a feed ended, as its transport needs to know (close code, log). */
export type FeedEndReason = SessionEndReason | "count";

export type FeedSink = {
  /** False while the peer is behind; ticks are then skipped (not queued), emits still go. */
  ready(): boolean;
  write(event: FeedEvent): void;
  end(reason: FeedEndReason): void;
};

export type FeedOptions = {
  origin: string;
  client: string;
  /** Tick period; 0 = no ticks, only pushed events. */
  intervalMs: number;
  /** End the feed after this many events (ticks + emits); undefined = unlimited. */
  count: number | undefined;
};

export type Feed = {
  /** The transport went away: stop timers and detach from the session. Idempotent. */
  stop(): void;
};

export function openFeed(store: SessionStore, session: Session, options: FeedOptions, sink: FeedSink): Feed {
  let seq = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  // Assigned below; attach() may end the feed synchronously (session already gone).
  let detach: () => void = () => {};

  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    detach();
  };

  const finish = (reason: FeedEndReason): void => {
    if (stopped) return;
    stop();
    sink.end(reason);
  };

  const deliver = (event: FeedEvent): void => {
    sink.write(event);
    if (options.count !== undefined && seq >= options.count) finish("count");
  };

  detach = store.attach(session, {
    push(data) {
      if (stopped) return;
      seq += 1;
      deliver({ type: "emit", seq, origin: options.origin, session: session.id, data });
    },
    end(reason) {
      finish(reason);
    },
  });

  if (options.intervalMs > 0 && !stopped) {
    timer = setInterval(function tick() {
      // A tick skipped for a slow peer is not numbered: seq stays gap-free per feed.
      if (stopped || !sink.ready()) return;
      seq += 1;
      deliver({
        type: "tick",
        seq,
        origin: options.origin,
        session: session.id,
        ts: Date.now(),
        client: options.client,
      });
    }, options.intervalMs);
  }

  return { stop };
}

/**
 * Reads `interval_ms` and `count` from a query string. Returns an error message naming
 * the parameter, or the values (interval falls back to the configured default).
 */
export function feedQuery(
  query: URLSearchParams,
  defaultIntervalMs: number,
): { ok: true; intervalMs: number; count: number | undefined } | { ok: false; message: string } {
  const interval = query.get("interval_ms");
  const count = query.get("count");
  const intervalMs = interval === null ? defaultIntervalMs : Number(interval);
  if (!Number.isInteger(intervalMs) || intervalMs < 0 || intervalMs > 86_400_000) {
    return { ok: false, message: `interval_ms must be an integer 0-86400000, got ${JSON.stringify(interval)}` };
  }
  const countValue = count === null ? undefined : Number(count);
  if (countValue !== undefined && (!Number.isInteger(countValue) || countValue < 1)) {
    return { ok: false, message: `count must be a positive integer, got ${JSON.stringify(count)}` };
  }
  return { ok: true, intervalMs, count: countValue };
}
