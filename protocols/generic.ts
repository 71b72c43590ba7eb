/**
 * The generic protocol: any HTTP request or WebSocket upgrade. A request with a token
 * (header, query parameter or cookie) is CR; one without is S only when the pool's
 * `sessionStart` rules say it opens a session (by default `POST /session` and any
 * WebSocket upgrade) — anything else opens none (config/session-start.ts). The
 * client carries the token as it got it; nothing in the traffic is rewritten. The origin
 * may name its own session id in an `X-Session-Id` response header; the edge records it.
 *
 * Ending a session on purpose: WebSockets close with 1012 (service restart — "come back
 * later") and the reason; HTTP streams simply end. The client starts a new session (S)
 * when it reconnects; the old token now gets 404 session_not_found.
 */
import { errorResponse } from "./errors.ts";
import { attachToken, findCarriedToken } from "./token-carriers.ts";
import { isWebSocketUpgrade, type ProtocolAdapter } from "./adapter.ts";
import { DEFAULT_SESSION_START, opensSession } from "../config/session-start.ts";

/** RFC 6455 close code 1012: the service is restarting; the client should reconnect. */
const SERVICE_RESTART = 1012;

export const genericAdapter: ProtocolAdapter = {
  name: "generic",
  matches: () => true,
  classify(request, url, _limits, sessionStart = DEFAULT_SESSION_START) {
    const carried = findCarriedToken(request, url);
    if (carried !== undefined) {
      return { kind: "CR", token: carried.token, carrier: carried.carrier, ...(asksForEventStream(request) ? { longLived: "stream" as const } : {}) };
    }
    return opensSession(sessionStart, request.method, url.pathname, isWebSocketUpgrade(request)) ? { kind: "S" } : { kind: "no-session" };
  },
  created(response) {
    return { response, originSessionId: response.headers.get("x-session-id") ?? undefined };
  },
  deliverToken(response, token, ctx) {
    const headers = new Headers(response.headers);
    attachToken(headers, token, ctx.secure, ctx.ttlSeconds);
    return new Response(response.body, {
      status: response.status,
      statusText: response.statusText,
      headers,
      webSocket: response.webSocket,
    });
  },
  endSignal: (_reason, message) => ({ closeCode: SERVICE_RESTART, closeReason: message }),
  failure: errorResponse,
};

/**
 * An SSE request (`Accept: text/event-stream`, GET): the answer is a stream. Other
 * streamed answers are found by the session object when they arrive (no length) and are
 * handed to the edge then.
 */
function asksForEventStream(request: Request): boolean {
  return request.method === "GET" && !isWebSocketUpgrade(request) && (request.headers.get("accept") ?? "").includes("text/event-stream");
}
