/**
 * The generic protocol: any HTTP request or WebSocket upgrade. A request without an
 * affinity token is S; one with a token (header, query parameter or cookie) is CR. The
 * client carries the token as it got it; nothing in the traffic is rewritten. The origin
 * may name its own session id in an `X-Session-Id` response header; the edge records it.
 */
import { errorResponse } from "../errors.ts";
import { attachToken, findCarriedToken } from "../token/carriers.ts";
import type { ProtocolAdapter } from "./adapter.ts";

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
  failure: errorResponse,
};
