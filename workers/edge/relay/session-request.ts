/**
 * Builds the request the edge hands to a session's Durable Object: the client's request
 * with token carriers removed, client-address claims replaced by the edge's own, and the
 * edge's routing decision attached. Internal headers a client tries to send are dropped.
 */
import { FAILURE_HEADER, ROUTE_HEADER, encodeRoute, type Route } from "../../../durable-objects/session/route.ts";
import { stripCarriers } from "../../../protocols/token-carriers.ts";
import { clientView, setForwardingHeaders } from "./forwarded.ts";

/** Query parameter by which a cookie-less WebSocket client asks for its token as a first message. */
export const ANNOUNCE_QUERY = "announce_affinity";

export interface OutboundRequest {
  readonly url: URL;
  readonly headers: Headers;
  /** The client asked to be told its token in-band (WebSocket). */
  readonly announce: boolean;
}

/** `head`: the request's headers as the edge already read them (routes/input-limits.ts), if it did. */
export function outboundRequest(request: Request, url: URL, head?: Iterable<readonly [string, string]>): OutboundRequest {
  const out = new URL(url);
  const headers = new Headers(request.headers);
  headers.delete(ROUTE_HEADER);
  headers.delete(FAILURE_HEADER);
  stripCarriers(headers, out);
  const announce = out.searchParams.get(ANNOUNCE_QUERY) === "1";
  // Only when present: delete() re-encodes the whole query (`%20` → `+`, `e` → `e=`).
  if (out.searchParams.has(ANNOUNCE_QUERY)) out.searchParams.delete(ANNOUNCE_QUERY);
  setForwardingHeaders(headers, clientView(request, url), head);
  return { url: out, headers, announce };
}

/**
 * The request for the session object: outbound request + route header. The route is set
 * on the outbound headers themselves — they belong to this one client request, and the
 * Request constructor copies them — so a re-placed S request just sets its new route.
 */
export function sessionObjectRequest(
  outbound: OutboundRequest,
  method: string,
  body: BodyInit | null,
  route: Route,
): Request {
  outbound.headers.set(ROUTE_HEADER, encodeRoute(route));
  return new Request(outbound.url, { method, headers: outbound.headers, body: bodyFor(method, body, outbound.headers) });
}

/**
 * The body to send with `method`: none for GET and HEAD, whose bodies have no meaning and
 * which the runtime refuses to build a request with — a client's `Content-Length: 0` on a
 * GET was a 500. Its framing headers go too: the next hop would make an (empty) body of
 * them again.
 */
export function bodyFor<B>(method: string, body: B | null, headers: Headers): B | null {
  if (method !== "GET" && method !== "HEAD") return body;
  headers.delete("content-length");
  headers.delete("transfer-encoding");
  return null;
}

/** Copies a response with changed headers, keeping a WebSocket (101) intact. */
export function withHeaders(response: Response, change: (headers: Headers) => void): Response {
  const headers = new Headers(response.headers);
  change(headers);
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
    webSocket: response.webSocket,
  });
}
