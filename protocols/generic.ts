/**
 * The generic protocol: any HTTP request or WebSocket upgrade. A request without an
 * affinity token is S; one with a token (header, query parameter or cookie) is CR. The
 * client carries the token as it got it; nothing in the traffic is rewritten. The origin
 * may name its own session id in an `X-Session-Id` response header; the edge records it.
 *
 * Ending a session on purpose: WebSockets close with 1012 (service restart — "come back
 * later") and the reason; HTTP streams simply end. The client starts a new session (S)
 * when it reconnects; the old token now gets 404 session_not_found.
 */
import { errorResponse } from "./errors.ts";
import { attachToken, findCarriedToken } from "./token-carriers.ts";
import type { ProtocolAdapter } from "./adapter.ts";

/** RFC 6455 close code 1012: the service is restarting; the client should reconnect. */
const SERVICE_RESTART = 1012;

export const genericAdapter: ProtocolAdapter = {
  name: "generic",
  matches: () => true,
  classify(request, url) {
    const carried = findCarriedToken(request, url);
    return carried === undefined ? { kind: "S" } : { kind: "CR", token: carried.token, carrier: carried.carrier };
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
