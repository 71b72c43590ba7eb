/**
 * Engine.IO v4 (the transport under Socket.IO 4): stickiness without cookies.
 *
 * An Engine.IO session is named by its `sid`. The edge swaps the origin's `sid` in the open
 * packet (`0{"sid":…}`, in the polling handshake body or the first WebSocket message) for
 * the affinity token, so every later request — polling GETs and POSTs, the WebSocket
 * upgrade — carries the token as `?sid=` and the edge can route it; the session object
 * swaps it back before the origin sees it. Works for polling-only, WebSocket-only and
 * polling-then-upgrade clients, with no cookie and no header.
 *
 * Failures answer as an Engine.IO server would (`400 {"code":1,"message":"Session ID
 * unknown"}`), which makes socket.io-client reconnect — through the edge, onto a live origin.
 *
 * Ending a session on purpose closes its transport: socket.io-client reconnects after a
 * transport close or error, but not after a Socket.IO "server disconnect" (`41`), which it
 * takes as final. A WebSocket closes (1012); a pending long-poll is answered "Session ID
 * unknown" (a transport error), and so is every later request of the session.
 */
import type { EdgeErrorCode } from "./errors.ts";
import { DEFAULT_LIMITS } from "../config/limits.ts";
import { isWebSocketUpgrade, type CreatedResponse, type ProtocolAdapter } from "./adapter.ts";
import { readPrefix } from "./bounded-read.ts";

export const ENGINE_IO_PATH = "/socket.io/";
/** Engine.IO's separator between packets in one polling payload. */
const RECORD_SEPARATOR = "\u001e";

/** Engine.IO's error codes (engine.io `Server.errors`). */
const UNKNOWN_SID = { code: 1, message: "Session ID unknown" };
const BAD_REQUEST = { code: 3, message: "Bad request" };
/** RFC 6455 close code 1012: the service is restarting; the client should reconnect. */
const SERVICE_RESTART = 1012;

/**
 * Swaps the sid in an open packet (`0{...}`) and reports the one it replaced; anything
 * else comes back undefined.
 */
export function rewriteOpenPacket(packet: string, sid: string): { packet: string; originSid: string } | undefined {
  if (!packet.startsWith("0{")) return undefined;
  let open: unknown;
  try {
    open = JSON.parse(packet.slice(1));
  } catch {
    return undefined;
  }
  if (typeof open !== "object" || open === null || typeof (open as { sid?: unknown }).sid !== "string") return undefined;
  const originSid = (open as { sid: string }).sid;
  return { packet: `0${JSON.stringify({ ...open, sid })}`, originSid };
}

/**
 * An Engine.IO handshake, as an Engine.IO server takes one (engine.io `verify`): a GET with
 * the protocol version `EIO` and a transport — `polling` as a plain request, `websocket` as
 * an upgrade. Anything else without a `sid` (the server's `/socket.io/socket.io.js`, a POST,
 * a scanner's guess) is answered by the server without a session, so it opens none here.
 */
function isHandshake(request: Request, url: URL): boolean {
  if (request.method !== "GET" || (url.searchParams.get("EIO") ?? "") === "") return false;
  const transport = url.searchParams.get("transport");
  return isWebSocketUpgrade(request) ? transport === "websocket" : transport === "polling";
}

export const engineIoAdapter: ProtocolAdapter = {
  name: "engine.io",
  matches: (url) => url.pathname.startsWith(ENGINE_IO_PATH),
  classify(request, url) {
    // URLSearchParams decodes names as Engine.IO servers do (`s%69d` is `sid`): more than
    // one sid could let the token name one session and the origin read another (issue 16
    // F4). One sid, the token's, is what the origin gets (toOrigin).
    const sids = url.searchParams.getAll("sid");
    if (sids.length > 1) return { kind: "refused", response: engineIoAdapter.failure(400, "bad_request", "sid given more than once") };
    const sid = sids[0];
    // A polling GET is a long-poll: the server holds it until it has packets (or pings).
    const longPoll = request.method === "GET" && !isWebSocketUpgrade(request) && url.searchParams.get("transport") === "polling";
    if (sid !== undefined && sid !== "") return { kind: "CR", token: sid, carrier: "engine.io-sid", ...(longPoll ? { longLived: "poll" as const } : {}) };
    return isHandshake(request, url) ? { kind: "S" } : { kind: "no-session" };
  },

  async created(response, token): Promise<CreatedResponse> {
    // A polling handshake answers with the open packet: a few hundred bytes, complete. An
    // answer past the protocol-line limit is no handshake: it passes on as it is, unread.
    if (response.status !== 200 || response.body === null) return { response, originSessionId: undefined };
    const prefix = await readPrefix(response.body, DEFAULT_LIMITS.protocolLineBytes);
    if (!prefix.complete) return { response: new Response(prefix.body, response), originSessionId: undefined };
    const body = new TextDecoder().decode(prefix.bytes);
    const split = body.indexOf(RECORD_SEPARATOR);
    const first = split < 0 ? body : body.slice(0, split);
    const rewritten = rewriteOpenPacket(first, token);
    const out = new TextEncoder().encode(rewritten === undefined ? body : rewritten.packet + (split < 0 ? "" : body.slice(split)));
    // The rewritten answer's own length: without one it would look like a stream (and be
    // handed on as a leg of its own).
    const headers = new Headers(response.headers);
    headers.set("content-length", String(out.byteLength));
    return { response: new Response(out, { status: response.status, headers }), originSessionId: rewritten?.originSid };
  },

  toOrigin(request, ids) {
    if (ids.originSessionId === null) return request;
    const url = new URL(request.url);
    url.searchParams.set("sid", ids.originSessionId);
    return new Request(url, request);
  },

  originMessage(data, ids) {
    const rewritten = rewriteOpenPacket(data, ids.token);
    return rewritten === undefined ? undefined : { data: rewritten.packet, originSessionId: rewritten.originSid };
  },

  // No packet: a transport that closes is what makes the client reconnect (see above).
  endSignal: (_reason, message) => ({ closeCode: SERVICE_RESTART, closeReason: message }),

  // The token is the sid the client already holds: nothing else to hand out.
  deliverToken: (response) => response,

  failure(status: number, code: EdgeErrorCode, message: string, headers: Record<string, string> = {}) {
    // Anything that means "this session is not (or no longer) usable" is, to an Engine.IO
    // client, an unknown sid: it drops the session and reconnects with a new handshake.
    const sessionGone = status === 401 || status === 403 || code === "session_not_found" || code === "origin_unreachable";
    const body = sessionGone ? UNKNOWN_SID : { ...BAD_REQUEST, message };
    return new Response(JSON.stringify(body), {
      status: sessionGone ? 400 : status,
      headers: { "content-type": "application/json", "cache-control": "no-store", "x-push-edge-error": code, ...headers },
    });
  },
};
