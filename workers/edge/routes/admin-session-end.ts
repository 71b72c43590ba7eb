/**
 * `POST /_edge/admin/sessions/:sk/end {"reason"?: "drain"|"rebalance"|"expired"|"admin", "detail"?: string}`:
 * ends one session the way a drain or an expiry would — its clients are told in their
 * protocol's words to reconnect, and they come back as new sessions. The reason defaults
 * to `admin`. Answers `{"ended": true|false, "session": <record>}`; 404 if no such session.
 * Mounted behind adminAuth by admin.ts.
 */
import { Hono } from "hono";
import { sessionStub } from "../../../durable-objects/session/stub.ts";
import { EdgeError } from "../../../protocols/errors.ts";
import { END_REASONS, isEndReason, type EndReason } from "../../../protocols/adapter.ts";
import type { EdgeEnv } from "./sessions.ts";

/** Longest `detail` kept: it lands in the event log and, shortened, in close reasons. */
const MAX_DETAIL = 200;

export function adminSessionEndRoutes(): Hono<EdgeEnv> {
  const routes = new Hono<EdgeEnv>();
  routes.post("/sessions/:sk/end", async function endSession(c) {
    const sk = c.req.param("sk");
    const { reason, detail } = parseEndRequest(await c.req.text());
    const stub = sessionStub(c.env, sk);
    const ended = await stub.end(reason, detail);
    const view = await stub.describe();
    if (view.record === undefined) throw new EdgeError(404, "session_not_found", `no session with key ${sk}`);
    return c.json({ ended, session: view.record });
  });
  return routes;
}

function parseEndRequest(text: string): { reason: EndReason; detail: string | undefined } {
  if (text.trim() === "") return { reason: "admin", detail: undefined };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new EdgeError(400, "bad_request", "body must be JSON");
  }
  if (typeof raw !== "object" || raw === null) throw new EdgeError(400, "bad_request", "body must be a JSON object");
  const { reason = "admin", detail } = raw as { reason?: unknown; detail?: unknown };
  if (!isEndReason(reason)) throw new EdgeError(400, "bad_request", `reason: must be one of ${END_REASONS.join(", ")}`);
  if (detail !== undefined && typeof detail !== "string") throw new EdgeError(400, "bad_request", "detail: must be a string");
  return { reason, detail: detail?.slice(0, MAX_DETAIL) };
}
