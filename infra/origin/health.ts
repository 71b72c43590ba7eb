// Operational endpoints: GET /health (what a pool's health checker reads), POST
// /admin/state (drain / block this node), GET /_debug/requests (what reached this node).
//
// /admin/state is unauthenticated on purpose: it is a local admin hook for the dev stack
// and tests. A deployment must not expose the origin's listeners publicly.

import type { IncomingMessage, ServerResponse } from "node:http";
import { HttpError, readJsonBody, sendJson } from "./http-io.ts";
import { isOneOf, ORIGIN_STATES, type OriginState } from "./options.ts";
import type { RequestContext } from "./request-context.ts";
import type { OriginRuntime } from "./runtime.ts";

export type HealthReport = {
  id: string;
  /** This run of the process: sessions are in memory, so a new instance holds none of the old ones. */
  instance: string;
  state: OriginState;
  /** Open sessions (attached or idle-but-not-expired). */
  sessions: number;
  capacity: number;
  /** Attached streams + WebSockets. */
  streams: number;
  /** Who this origin believes sent the health request, and why. */
  client: string;
  via: string;
  listener: string;
};

export function healthReport(ctx: RequestContext): HealthReport {
  const { runtime } = ctx;
  return {
    id: runtime.id,
    instance: runtime.instance,
    state: runtime.state,
    sessions: runtime.sessions.size,
    capacity: runtime.options.capacity,
    streams: runtime.sessions.subscriberCount(),
    client: ctx.client.client,
    via: ctx.client.via,
    listener: ctx.listener.kind,
  };
}

export function handleHealth(ctx: RequestContext, res: ServerResponse): void {
  sendJson(res, 200, healthReport(ctx), ctx.baseHeaders);
  ctx.log(200);
}

export async function handleAdminState(ctx: RequestContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJsonBody(req);
  const state = typeof body === "object" && body !== null && "state" in body ? body.state : undefined;
  if (!isOneOf(state, ORIGIN_STATES)) {
    throw new HttpError(400, "bad_state", `body must be {"state": "${ORIGIN_STATES.join('"|"')}"}`);
  }
  const previous = ctx.runtime.state;
  ctx.runtime.state = state;
  sendJson(res, 200, { ok: true, id: ctx.runtime.id, state, previous }, ctx.baseHeaders);
  ctx.log(200);
}

export function handleDebugRequests(ctx: RequestContext, res: ServerResponse): void {
  sendJson(res, 200, ctx.runtime.requestLog.entries(), ctx.baseHeaders);
  ctx.log(200);
}

/** New sessions are refused while blocked, or at capacity; draining still accepts them
 * (the edge stops sending S requests; the origin does not second-guess it). */
export function assertCanCreateSession(runtime: OriginRuntime): void {
  if (runtime.state === "blocked") {
    throw new HttpError(503, "origin_blocked", `origin ${runtime.id} is blocked and takes no new sessions`, {
      "Retry-After": "5",
    });
  }
  if (runtime.sessions.size >= runtime.options.capacity) {
    throw new HttpError(503, "origin_full", `origin ${runtime.id} is at its capacity of ${runtime.options.capacity} sessions`, {
      "Retry-After": "1",
    });
  }
}
