// The "generic" demo protocol over plain HTTP, which the edge relays unchanged:
//   POST /session                 S  → 201 {id, origin, client} + X-Session-Id
//   GET  /session/:id             CR → the session's record
//   GET  /session/:id/stream      CR → SSE: ticks (interval_ms, count) and emitted events
//   POST /session/:id/control     CR → {"cmd":"emit"|"echo"|"close", "data"?}
// The WebSocket endpoints live in websocket.ts.

import type { IncomingMessage, ServerResponse } from "node:http";
import { startEventStream } from "./event-stream.ts";
import { assertCanCreateSession } from "./health.ts";
import { discardBody, HttpError, readJsonBody, sendJson } from "./http-io.ts";
import type { RequestContext } from "./request-context.ts";
import type { Session } from "./sessions.ts";
import { feedQuery, openFeed } from "./stream-feed.ts";

export type ControlCommand = { cmd: "emit"; data: unknown } | { cmd: "echo"; data: unknown } | { cmd: "close" };

export function handleCreateSession(ctx: RequestContext, req: IncomingMessage, res: ServerResponse): void {
  discardBody(req);
  assertCanCreateSession(ctx.runtime);
  const session = ctx.runtime.sessions.create(ctx.client.client, edgeBinding(ctx));
  sendJson(
    res,
    201,
    { id: session.id, origin: ctx.runtime.id, client: ctx.client.client },
    { ...ctx.baseHeaders, "X-Session-Id": session.id, Location: `/session/${session.id}` },
  );
  ctx.log(201, { session: session.id });
}

export function handleSessionInfo(ctx: RequestContext, res: ServerResponse): void {
  const session = requireSession(ctx);
  sendJson(
    res,
    200,
    {
      id: session.id,
      origin: ctx.runtime.id,
      client: session.client,
      createdAt: session.createdAt,
      subscribers: session.subscribers.size,
    },
    ctx.baseHeaders,
  );
  ctx.log(200, { session: session.id });
}

export function handleStream(ctx: RequestContext, res: ServerResponse): void {
  const session = requireSession(ctx);
  const query = feedQuery(ctx.query, ctx.runtime.options.intervalMs);
  if (!query.ok) throw new HttpError(400, "bad_query", query.message);
  const sink = startEventStream(res, { keepAliveMs: ctx.runtime.options.keepAliveMs, headers: ctx.baseHeaders });
  ctx.log(200, { session: session.id });
  const feed = openFeed(
    ctx.runtime.sessions,
    session,
    { origin: ctx.runtime.id, client: ctx.client.client, intervalMs: query.intervalMs, count: query.count },
    sink,
  );
  res.once("close", () => feed.stop());
}

export async function handleControl(ctx: RequestContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const session = requireSession(ctx);
  const command = parseControlCommand(await readCommandBody(req));
  const base = { ok: true, origin: ctx.runtime.id, session: session.id, cmd: command.cmd };
  let body: Record<string, unknown>;
  switch (command.cmd) {
    case "emit":
      body = { ...base, delivered: ctx.runtime.sessions.emit(session, command.data) };
      break;
    case "echo":
      body = { ...base, data: command.data };
      break;
    case "close":
      ctx.runtime.sessions.close(session, "closed");
      body = base;
      break;
  }
  sendJson(res, 200, body, ctx.baseHeaders);
  ctx.log(200, { session: session.id });
}

export function parseControlCommand(body: unknown): ControlCommand {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new HttpError(400, "bad_command", 'body must be a JSON object like {"cmd":"emit","data":...}');
  }
  const cmd = "cmd" in body ? body.cmd : undefined;
  const data = "data" in body ? body.data : null;
  switch (cmd) {
    case "emit":
      return { cmd, data };
    case "echo":
      return { cmd, data };
    case "close":
      return { cmd };
    default:
      throw new HttpError(400, "bad_command", `unknown cmd ${JSON.stringify(cmd)}; expected emit, echo or close`);
  }
}

/** Bad JSON is reported as bad_command: to the caller it is one more malformed command. */
async function readCommandBody(req: IncomingMessage): Promise<unknown> {
  try {
    return await readJsonBody(req);
  } catch (error) {
    if (error instanceof HttpError && error.code === "bad_json") {
      throw new HttpError(400, "bad_command", error.message);
    }
    throw error;
  }
}

export function requireSession(ctx: RequestContext): Session {
  const id = ctx.route?.sessionId ?? "";
  const session = ctx.runtime.sessions.get(id);
  // A TLCP session is not addressable through the generic endpoints (and vice versa).
  if (session === undefined || session.protocol !== "generic") {
    throw new HttpError(404, "session_not_found", `session ${JSON.stringify(id)} is not known to origin ${ctx.runtime.id}`);
  }
  // With token verification on, the token must name this very session, not merely one of
  // this origin's: a token for session A must not open /session/<B> (issue 16 F4).
  if (ctx.runtime.edgeTokenCheck !== undefined && session.edgeSessionKey !== ctx.edgeSessionKey) {
    throw new HttpError(403, "token_wrong_session", `the push-edge token does not name session ${JSON.stringify(id)}`);
  }
  return session;
}

/** What a new session is bound to: the verified token's `sk`, when the edge sent one. */
export function edgeBinding(ctx: RequestContext): { edgeSessionKey?: string } {
  return ctx.edgeSessionKey === undefined ? {} : { edgeSessionKey: ctx.edgeSessionKey };
}
