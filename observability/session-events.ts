/**
 * Observability hooks for what happens inside a session object, after the edge has
 * answered: a session's WebSocket to its origin failing mid-session is a relay error
 * the edge's own counts (made at S / CR time) cannot see.
 */
import { log } from "./log.ts";
import { count, scheduleFlush } from "./metrics.ts";

/** Close codes that mean the origin's side broke, not that someone closed it on purpose. */
const ABNORMAL = new Set([1006, 1011]);

export interface SessionWhere {
  readonly sk: string;
  readonly pool: string;
  readonly originId: string;
}

/** A relayed WebSocket ended; counts and logs it when the origin's side failed. */
export function webSocketEnded(env: Env, ctx: DurableObjectState, session: SessionWhere, side: string, code: number, reason: string): void {
  if (side !== "origin" || !ABNORMAL.has(code)) return;
  count(session.pool, "edge_relay_errors_total", { origin: session.originId, kind: "origin_websocket_failed" });
  log("relay_error", { sk: session.sk, pool: session.pool, origin: session.originId, kind: "origin_websocket_failed", code, reason }, "error");
  scheduleFlush(env, (p) => ctx.waitUntil(p));
}
