// Server-Sent Events framing for a feed: one `id/event/data` block per event, written
// and flushed as it happens, plus a comment line after a stretch of silence so proxies
// and load balancers with idle timeouts keep the stream open.

import type { ServerResponse } from "node:http";
import type { FeedEndReason, FeedEvent, FeedSink } from "./stream-feed.ts";

/** Beyond this much unsent data the peer is not reading; ticks pause until it drains. */
const SOFT_LIMIT = 64 * 1024;
/** Beyond this the peer is gone or hostile; drop it rather than grow memory. */
const HARD_LIMIT = 4 * 1024 * 1024;

export type EventStreamOptions = {
  keepAliveMs: number;
  headers: Record<string, string>;
  onEnd?: (reason: FeedEndReason | "slow_consumer") => void;
};

export function formatEvent(event: FeedEvent): string {
  return `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/** Writes the 200 head now (so the client sees the stream open) and returns the sink. */
export function startEventStream(res: ServerResponse, options: EventStreamOptions): FeedSink {
  res.writeHead(200, {
    ...options.headers,
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    // nginx buffers proxied responses unless told otherwise.
    "X-Accel-Buffering": "no",
  });
  res.flushHeaders();
  res.socket?.setNoDelay(true);

  let ended = false;
  // One timer, pushed back by every write: it only fires after keepAliveMs of silence.
  const keepAlive = setTimeout(function keepAliveComment() {
    write(": keep-alive\n\n");
  }, options.keepAliveMs);

  function write(text: string): void {
    if (ended) return;
    keepAlive.refresh();
    res.write(text);
    if (res.writableLength > HARD_LIMIT) close("slow_consumer", true);
  }

  function close(reason: FeedEndReason | "slow_consumer", abort: boolean): void {
    if (ended) return;
    ended = true;
    clearTimeout(keepAlive);
    if (abort) res.destroy();
    else res.end();
    options.onEnd?.(reason);
  }

  // The client went away (or we destroyed the response): stop the keep-alive timer.
  res.once("close", () => {
    ended = true;
    clearTimeout(keepAlive);
  });

  return {
    ready: () => !ended && res.writableLength < SOFT_LIMIT,
    write: (event) => write(formatEvent(event)),
    end: (reason) => close(reason, false),
  };
}
