// create_session and bind_session, whichever transport carried them: check the request,
// create or find the session, and say what the binding that follows must do (stream or
// poll, keep-alive, content length) and which lines open it.
//
//   create_session  LS_adapter_set (DEMO, or none), LS_polling, LS_polling_millis,
//                   LS_idle_millis, LS_keepalive_millis, LS_content_length; LS_cid,
//                   LS_user, LS_password, LS_old_session, LS_cause... are accepted and
//                   ignored. Opens with CONOK, SERVNAME, CLIENTIP, CONS.
//   bind_session    LS_session (+ the same binding parameters), LS_recovery_from for a
//                   recovery. Opens with CONOK, CLIENTIP, PROG (how many data
//                   notifications the session has written; on recovery, the client's
//                   count, after which the log is replayed), SYNC when streaming.

import { HttpError } from "../http-io.ts";
import type { ListenerKind } from "../options.ts";
import { DEMO_ADAPTER_SET } from "./demo-adapter-set.ts";
import { conerr, conok } from "./encoding.ts";
import { boolParam, intParam, type RequestLine } from "./request-params.ts";
import { REQUEST_LIMIT, type TlcpService } from "./service.ts";
import type { TlcpSession } from "./session.ts";

export type BindingPlan = {
  polling: boolean;
  /** Streaming: the keep-alive announced in CONOK; PROBE comes before it runs out. */
  keepAliveMs: number;
  /** Polling: how long a poll waits for data before answering LOOP anyway. */
  idleMs: number;
  /** Polling: the pause the client announced before its next poll (echoed in LOOP). */
  pollingMs: number;
  /** HTTP streaming: bytes after which the response ends with LOOP. */
  contentLength: number;
  /** Streaming: whether the client wants SYNC notifications. */
  sync: boolean;
};

export type OpenedSession =
  | { ok: true; session: TlcpSession; plan: BindingPlan; preamble: string[] }
  /** `status` is for HTTP: 200 with a CONERR body, or 503 when the origin takes no new
   * sessions (so the edge re-places the request). `session` names it for the log. */
  | { ok: false; line: string; status: number; session?: string };

export type SessionRequestContext = {
  service: TlcpService;
  originId: string;
  client: string;
  listener: ListenerKind;
  /** HTTP requests can stream with a content length; WebSockets never need one. */
  transport: "http" | "ws";
  /** LS_session from the query string (HTTP) or the socket's session (WS), used when the
   * request does not name one. */
  querySession?: string;
  /** Throws HttpError origin_blocked / origin_full when no session may be created. */
  canCreate: () => void;
};

const SYNTAX = 65;
const BAD_ADAPTER_SET = 2;
const UNKNOWN_SESSION = 20;
const WRONG_INSTANCE = 21;
const BLOCKED = 10;
const FULL = 8;
const DEFAULT_CONTENT_LENGTH = 10_000_000;
const MAX_IDLE_MS = 60_000;
const KEEPALIVE_RANGE = { min: 100, max: 120_000 };

export function createSession(ctx: SessionRequestContext, request: RequestLine): OpenedSession {
  if (request.error !== undefined) return refuse(SYNTAX, request.error);
  // A WebSocket's first request decides what it is; HTTP routes check listeners already.
  if (ctx.listener === "control") return refuse(BLOCKED, "this listener takes no new sessions");
  const adapterSet = request.params.get("LS_adapter_set") ?? DEMO_ADAPTER_SET;
  if (adapterSet !== DEMO_ADAPTER_SET) return refuse(BAD_ADAPTER_SET, `adapter set ${adapterSet} is not available (use DEMO)`);
  const plan = bindingPlan(ctx, request.params);
  if (!plan.ok) return refuse(SYNTAX, plan.message);
  try {
    ctx.canCreate();
  } catch (failure) {
    if (!(failure instanceof HttpError)) throw failure;
    const code = failure.code === "origin_blocked" ? BLOCKED : FULL;
    return { ok: false, line: conerr(code, failure.message), status: 503 };
  }
  const session = ctx.service.create(ctx.client);
  return {
    ok: true,
    session,
    plan: plan.value,
    preamble: [
      conok(session.id, REQUEST_LIMIT, plan.value.polling ? plan.value.idleMs : plan.value.keepAliveMs),
      `SERVNAME,${ctx.originId}`,
      `CLIENTIP,${ctx.client}`,
      "CONS,unlimited",
      ...syncLine(session, plan.value),
    ],
  };
}

export function bindSession(ctx: SessionRequestContext, request: RequestLine): OpenedSession {
  const id = request.params.get("LS_session") ?? ctx.querySession;
  if (request.error !== undefined) return refuse(SYNTAX, request.error, id);
  if (ctx.listener === "create") return refuse(WRONG_INSTANCE, "binds are not served on this listener", id);
  if (id === undefined || id === "") return refuse(SYNTAX, "LS_session is required");
  const plan = bindingPlan(ctx, request.params);
  if (!plan.ok) return refuse(SYNTAX, plan.message, id);
  const recovery = intParam(request.params, "LS_recovery_from");
  if (!recovery.ok) return refuse(SYNTAX, recovery.message, id);
  const session = ctx.service.get(id);
  if (session === undefined) return refuse(UNKNOWN_SESSION, "session not found", id);
  if (recovery.value !== undefined && !session.recoverFrom(recovery.value)) {
    // The client cannot be brought up to date: the session is no use to anyone.
    session.end(UNKNOWN_SESSION, "session cannot be recovered");
    return refuse(UNKNOWN_SESSION, `cannot recover from ${recovery.value}`, id);
  }
  return {
    ok: true,
    session,
    plan: plan.value,
    preamble: [
      conok(session.id, REQUEST_LIMIT, plan.value.polling ? plan.value.idleMs : plan.value.keepAliveMs),
      `CLIENTIP,${ctx.client}`,
      `PROG,${session.delivered}`,
      ...syncLine(session, plan.value),
    ],
  };
}

function bindingPlan(
  ctx: SessionRequestContext,
  params: ReadonlyMap<string, string>,
): { ok: true; value: BindingPlan } | { ok: false; message: string } {
  const polling = boolParam(params, "LS_polling", false);
  if (!polling.ok) return polling;
  const pollingMs = intParam(params, "LS_polling_millis");
  if (!pollingMs.ok) return pollingMs;
  const idleMs = intParam(params, "LS_idle_millis");
  if (!idleMs.ok) return idleMs;
  const keepAliveMs = intParam(params, "LS_keepalive_millis");
  if (!keepAliveMs.ok) return keepAliveMs;
  const contentLength = intParam(params, "LS_content_length", { min: 1 });
  if (!contentLength.ok) return contentLength;
  const sync = boolParam(params, "LS_send_sync", true);
  if (!sync.ok) return sync;
  const requestedKeepAlive = keepAliveMs.value ?? ctx.service.options.tlcpKeepAliveMs;
  return {
    ok: true,
    value: {
      polling: polling.value,
      keepAliveMs: Math.min(KEEPALIVE_RANGE.max, Math.max(KEEPALIVE_RANGE.min, requestedKeepAlive)),
      idleMs: Math.min(MAX_IDLE_MS, idleMs.value ?? 0),
      pollingMs: pollingMs.value ?? 0,
      contentLength: ctx.transport === "http" ? (contentLength.value ?? DEFAULT_CONTENT_LENGTH) : Number.POSITIVE_INFINITY,
      sync: sync.value && !polling.value,
    },
  };
}

function syncLine(session: TlcpSession, plan: BindingPlan): string[] {
  return plan.sync ? [`SYNC,${Math.floor((Date.now() - session.base.createdAt) / 1000)}`] : [];
}

function refuse(code: number, message: string, session?: string): OpenedSession {
  return { ok: false, line: conerr(code, message), status: 200, ...(session === undefined ? {} : { session }) };
}
