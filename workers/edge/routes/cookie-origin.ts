/**
 * The Origin check of cookie-carried CR requests (F13 of issue 16). A browser sends the
 * `SameSite=None` affinity cookie with requests that any site makes — a `fetch()` with
 * credentials, a form post, a WebSocket (which no CORS rule guards) — so without a check a
 * cross-site page could ride a victim's session. A request whose token came from the
 * cookie must come from a web origin the pool allows (config/allowed-origins.ts; by default
 * the request's own host). Browsers always send `Origin` on WebSocket handshakes and
 * cross-origin requests; a request without one is checked by `Sec-Fetch-Site` when a
 * browser sent that (`cross-site` is refused), and otherwise comes from a non-browser
 * client, which no other site can drive, and passes.
 */
import { originAllowed } from "../../../config/allowed-origins.ts";
import type { PoolConfig } from "../../../config/config.ts";
import type { Failure } from "../../../protocols/adapter.ts";

/** The refusal for a cookie-carried request from a web origin the pool does not allow, or undefined. */
export function cookieOriginRefusal(request: Request, url: URL, pool: PoolConfig, carrier: string, failure: Failure): Response | undefined {
  if (carrier !== "cookie") return undefined;
  const origin = request.headers.get("origin");
  const allowed =
    origin === null
      ? request.headers.get("sec-fetch-site") !== "cross-site"
      : originAllowed(pool.settings.allowedOrigins, origin, url.host);
  if (allowed) return undefined;
  return failure(403, "origin_not_allowed", "this session's cookie was sent from a page of another site; that site may not use it");
}
