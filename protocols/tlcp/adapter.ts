/**
 * Lightstreamer TLCP 2.x: stickiness without cookies, per-node host names or IP affinity.
 *
 * - S: `create_session.txt`, and WebSockets on `/lightstreamer` whose opening request is
 *   `create_session`. CR: `bind_session.txt`, `control.txt`, `msg.txt`, `heartbeat.txt`,
 *   and WebSockets whose opening request is `bind_session`.
 * - In `CONOK` the origin's session id becomes the affinity token and the control link
 *   `*`; `LS_session` (bind body, control query string, bind message) is mapped back to the
 *   origin's id before the origin sees it.
 * - Failures are TLCP lines on HTTP 200 (the client cannot see HTTP statuses): `CONERR` for
 *   session requests, one `REQERR` per request line for control/msg/heartbeat, so a client
 *   whose session is gone creates a new one — through the edge, onto a live origin.
 * - Ending a session on purpose: `END,48,<message>` ("maximum session duration reached",
 *   which the client answers by opening a new session at once) on the WebSocket or at the
 *   end of the open HTTP stream, then the connection closes.
 */
import type { EdgeErrorCode } from "../errors.ts";
import { DEFAULT_LIMITS, type Limits } from "../../config/limits.ts";
import type { Classification, Failure, ProtocolAdapter } from "../adapter.ts";
import { isWebSocketUpgrade } from "../adapter.ts";
import { rewriteConokIn, rewriteFirstLine, splitFirstLine } from "./conok.ts";
import { encodeField, requestIds } from "./params.ts";
import { readTlcpBody } from "./request-body.ts";
import { pinSession, sessionNamed } from "./session-params.ts";

export const TLCP_PATH = "/lightstreamer";
/** TLCP error codes the edge uses. */
const SESSION_NOT_FOUND = 20;
const NEW_SESSIONS_BLOCKED = 10;
/** The request itself is unacceptable (malformed, or over a size limit); as Lightstreamer Server answers. */
const MALFORMED_REQUEST = 65;
/** Refusals of the request itself (over a limit, or malformed: bad_request) are TLCP's 65. */
const LIMIT_CODES: readonly EdgeErrorCode[] = ["url_too_long", "headers_too_large", "body_too_large", "line_too_long", "bad_request", "body_timeout"];
/**
 * TLCP END cause 48: the server ends the session to refresh it. Clients recover by creating
 * a new session immediately (lightstreamer-client treats 41 and 48 as "retry", every other
 * END cause as final), which is exactly what drain, rebalance and expiry want.
 */
const END_REFRESH_SESSION = 48;

type RequestKind = "create_session" | "bind_session" | "control" | "msg" | "heartbeat";

function requestKind(url: URL): RequestKind | undefined {
  const m = /^\/lightstreamer\/(create_session|bind_session|control|msg|heartbeat)\.txt$/.exec(url.pathname);
  return m?.[1] as RequestKind | undefined;
}

/** The TLCP code for an edge failure: session problems are "session not found" (retry with a new one). */
function tlcpCode(code: EdgeErrorCode): number {
  if (LIMIT_CODES.includes(code)) return MALFORMED_REQUEST;
  return code === "no_origin_available" || code === "too_many_sessions" || code === "edge_busy" ? NEW_SESSIONS_BLOCKED : SESSION_NOT_FOUND;
}

/**
 * A control/msg/heartbeat body that cannot be read into request lines has no request ids
 * to answer one by one: TLCP's `ERROR` line says the whole request failed.
 */
function errorLine(code: EdgeErrorCode, message: string): Response {
  return tlcpResponse([`ERROR,${tlcpCode(code)},${encodeField(message)}`]);
}

function tlcpResponse(lines: string[], headers: Record<string, string> = {}): Response {
  return new Response(lines.map((l) => `${l}\r\n`).join(""), {
    status: 200,
    headers: { "content-type": "text/enriched; charset=UTF-8", "cache-control": "no-store", ...headers },
  });
}

const conerr: Failure = (_status, code, message, headers) =>
  tlcpResponse([`CONERR,${tlcpCode(code)},${encodeField(message)}`], withoutRetryAfter(headers));

/** One REQERR per request line, in order, so the client can match each to its request. */
function reqerrs(ids: string[]): Failure {
  return (_status, code, message, headers) =>
    tlcpResponse(
      ids.map((id) => `REQERR,${id},${tlcpCode(code)},${encodeField(message)}`),
      withoutRetryAfter(headers),
    );
}

/** HTTP-only headers mean nothing to a TLCP client reading a 200 body. */
function withoutRetryAfter(headers: Record<string, string> = {}): Record<string, string> {
  const { "retry-after": _ignored, ...rest } = headers;
  return rest;
}

export const tlcpAdapter: ProtocolAdapter = {
  name: "tlcp",
  matches: (url) => url.pathname === TLCP_PATH || url.pathname.startsWith(`${TLCP_PATH}/`),

  async classify(request, url, limits: Limits = DEFAULT_LIMITS): Promise<Classification> {
    if (isWebSocketUpgrade(request)) return { kind: "first-message" };
    const kind = requestKind(url);
    // Only create_session creates (a CORS preflight for it, OPTIONS, creates nothing); any
    // other path under /lightstreamer is no TLCP request and opens no session either.
    if (kind === "create_session" && (request.method === "POST" || request.method === "GET")) return { kind: "S", failure: conerr };
    if (kind === undefined || kind === "create_session" || request.method === "OPTIONS") return { kind: "no-session" };
    const read = await readTlcpBody(request, limits);
    if (!read.ok) {
      // Over a limit: the request never reaches a session; the client hears TLCP's 65.
      const response = kind === "bind_session" ? conerr(400, read.code, read.message) : errorLine(read.code, read.message);
      return { kind: "refused", response };
    }
    const { body, text } = read;
    const failure = kind === "bind_session" ? conerr : reqerrs(requestIds(text));
    // The session is read as the origin will read it; an encoded, repeated or conflicting
    // LS_session is refused (session-params.ts), so the origin is only ever told one.
    const named = sessionNamed([url.search.slice(1), text]);
    if (!named.ok) return { kind: "refused", response: failure(400, "bad_request", named.message) };
    // An absent LS_session is no session the edge knows: verification fails and the client
    // hears it in TLCP's words.
    // A bind streams, or long-polls (LS_polling=true): either way the origin holds it open.
    const longLived = kind !== "bind_session" ? {} : { longLived: asksToPoll([url.search.slice(1), text]) ? ("poll" as const) : ("stream" as const) };
    return { kind: "CR", token: named.session ?? "", carrier: "tlcp-session", body, failure, ...longLived };
  },

  async created(response, token) {
    if (response.body === null) return { response, originSessionId: undefined };
    const { body, originSessionId } = await rewriteFirstLine(response.body, token);
    return { response: new Response(body, response), originSessionId };
  },

  async relayed(response, ids) {
    // A rebind answers with CONOK naming the origin's session id; other answers pass.
    if (response.body === null) return response;
    const { body } = await rewriteFirstLine(response.body, ids.token);
    return new Response(body, response);
  },

  relayedStream: (body, ids) => splitFirstLine(body, ids.token),

  async toOrigin(request, ids) {
    if (ids.originSessionId === null) return request;
    const url = new URL(request.url);
    // Every session-naming parameter, whatever its spelling, names the token's session.
    if (url.search !== "") url.search = pinSession(url.search.slice(1), ids.originSessionId);
    const text = await request.text();
    const headers = new Headers(request.headers);
    headers.delete("content-length");
    const body = pinSession(text, ids.originSessionId);
    return new Request(url, { method: request.method, headers, body: request.method === "GET" ? null : body });
  },

  originMessage(data, ids) {
    if (!data.includes("CONOK,")) return undefined;
    const rewritten = rewriteConokIn(data, ids.token);
    return rewritten === undefined ? undefined : { data: rewritten.text, originSessionId: rewritten.originSessionId };
  },

  clientMessage(data, ids) {
    // A message may name a session in any spelling (LS%5Fsession...): the origin hears only
    // this one. Cheap for messages that name none: the scan only rewrites matching names.
    return ids.originSessionId !== null ? pinSession(data, ids.originSessionId) : data;
  },

  classifyMessage(data) {
    const [verb = "", params = ""] = data.split("\r\n", 2);
    // Over WebSocket, as over HTTP, every TLCP line ends with CRLF.
    if (verb === "wsok") return { kind: "reply", reply: "WSOK\r\n" };
    if (verb === "create_session") return { kind: "S" };
    if (verb === "bind_session") {
      const named = sessionNamed([params]);
      if (!named.ok) return { kind: "refuse", reply: `CONERR,${MALFORMED_REQUEST},${encodeField(named.message)}\r\n` };
      return { kind: "CR", token: named.session ?? "" };
    }
    return { kind: "refuse", reply: `CONERR,${SESSION_NOT_FOUND},${encodeField("expected create_session or bind_session")}\r\n` };
  },

  messageFailure(code, message) {
    return `CONERR,${tlcpCode(code)},${encodeField(message)}\r\n`;
  },

  endSignal(_reason, message) {
    // The message field is always present, even when empty: clients split on commas.
    const line = `END,${END_REFRESH_SESSION},${encodeField(message)}\r\n`;
    return { webSocketMessage: line, streamText: line, closeCode: 1000, closeReason: "session ended" };
  },

  // The token reaches the client inside CONOK.
  deliverToken: (response) => response,
  failure: conerr,
};

/** Whether a bind asks for polling (`LS_polling=true` in its query or body). */
function asksToPoll(texts: readonly string[]): boolean {
  return texts.some((text) => text.split("\r\n").some((line) => new URLSearchParams(line).get("LS_polling") === "true"));
}
