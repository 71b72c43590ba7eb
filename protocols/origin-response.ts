/**
 * What an origin may not say to the edge or to the client (F12 of issue 16). An origin's
 * response passes through the edge on its way to the client, so whatever it carries in
 * the edge's own vocabulary would be taken for the edge's word:
 *  - the internal failure header (`X-Push-Edge-Failure`), by which the session object tells
 *    the edge that it answered instead of the origin: from an origin it would mark that
 *    origin (or, naming another reason, the session) down at the edge;
 *  - the affinity cookie (`Set-Cookie: pe_affinity=...`) and the `X-Affinity-Token`
 *    header: from an origin they would set a client's affinity — to a session of the
 *    origin's choosing, e.g. one whose token it was handed in `X-Push-Edge-Token`.
 * They are removed where the origin's response enters the edge — relayHttp() and
 * relayWebSocket() in relay/, whoever runs them (the session object, the edge's own legs,
 * the stateless relay) — before the session object or the edge add their own. Every
 * other header, other cookies included, is the origin's and passes unchanged.
 */
import { TOKEN_COOKIE, TOKEN_HEADER } from "./token-carriers.ts";

/**
 * Set by the DO when it answers instead of the origin (`origin_unreachable`,
 * `session_not_found`), read and removed by the edge — so the edge can tell the DO's
 * answers from an origin's own 404 or 502.
 */
export const FAILURE_HEADER = "x-push-edge-failure";

/** An origin's answer as the edge passes it on: edge-owned headers removed (see above). */
export function originAnswer<O extends { ok: true; response: Response } | { ok: false }>(outcome: O): O {
  return outcome.ok ? { ...outcome, response: withoutEdgeClaims(outcome.response, [FAILURE_HEADER]) } : outcome;
}

/** The origin's response without edge-owned headers; the same object when it has none. */
export function withoutEdgeClaims(response: Response, internalHeaders: readonly string[]): Response {
  const cookies = response.headers.getSetCookie();
  const forged = cookies.filter(isAffinityCookie);
  const named = [...internalHeaders, TOKEN_HEADER].filter((h) => response.headers.has(h));
  if (forged.length === 0 && named.length === 0) return response;
  const headers = new Headers();
  for (const [name, value] of response.headers) {
    if (name !== "set-cookie" && !named.includes(name)) headers.append(name, value);
  }
  for (const cookie of cookies) if (!isAffinityCookie(cookie)) headers.append("set-cookie", cookie);
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
    webSocket: response.webSocket,
  });
}

function isAffinityCookie(setCookie: string): boolean {
  const eq = setCookie.indexOf("=");
  return eq >= 0 && setCookie.slice(0, eq).trim() === TOKEN_COOKIE;
}
