/**
 * Where an affinity token travels: the `X-Affinity-Token` header, the `affinity` query
 * parameter, or the `pe_affinity` cookie (protocol adapters add their own carriers, such
 * as a protocol session id). An explicit header or query parameter wins over the cookie,
 * because a browser holds one cookie per host but may run several sessions.
 */

export const TOKEN_HEADER = "x-affinity-token";
export const TOKEN_QUERY = "affinity";
export const TOKEN_COOKIE = "pe_affinity";

/**
 * The verified token, as the edge hands it to the origin on CR requests, so an origin can
 * verify it itself (against the JWKS). Only the edge sets it: a client-sent copy is
 * removed with the carriers, on S and CR requests alike.
 */
export const FORWARDED_TOKEN_HEADER = "x-push-edge-token";

export type TokenCarrier = "header" | "query" | "cookie";

export interface CarriedToken {
  readonly token: string;
  readonly carrier: TokenCarrier;
}

export function readCookie(header: string | null, name: string): string | undefined {
  if (header === null) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The token a request carries, if any, by precedence header > query > cookie. */
export function findCarriedToken(request: Request, url: URL): CarriedToken | undefined {
  const header = request.headers.get(TOKEN_HEADER);
  if (header !== null && header !== "") return { token: header.trim(), carrier: "header" };
  const query = url.searchParams.get(TOKEN_QUERY);
  if (query !== null && query !== "") return { token: query, carrier: "query" };
  const cookie = readCookie(request.headers.get("cookie"), TOKEN_COOKIE);
  if (cookie !== undefined && cookie !== "") return { token: cookie, carrier: "cookie" };
  return undefined;
}

/**
 * Removes every token carrier from what goes to the origin — the client's carriers differ
 * by protocol, and the origin must not mistake them for its own parameters — and any
 * client-sent copy of the forwarded-token header (the relay adds the verified token there).
 */
export function stripCarriers(headers: Headers, url: URL): void {
  headers.delete(TOKEN_HEADER);
  headers.delete(FORWARDED_TOKEN_HEADER);
  // Only when present: delete() re-encodes the whole query (`%20` → `+`, `e` → `e=`).
  if (url.searchParams.has(TOKEN_QUERY)) url.searchParams.delete(TOKEN_QUERY);
  const cookie = headers.get("cookie");
  if (cookie !== null) {
    const kept = cookie
      .split(";")
      .filter((part) => part.split("=", 1)[0]?.trim() !== TOKEN_COOKIE)
      .join(";")
      .trim();
    if (kept === "") headers.delete("cookie");
    else headers.set("cookie", kept);
  }
}

/** The outbound request of a verified CR request, with the token for the origin to check. */
export function withForwardedToken<T extends { readonly headers: Headers }>(outbound: T, token: string): T {
  const headers = new Headers(outbound.headers);
  headers.set(FORWARDED_TOKEN_HEADER, token);
  return { ...outbound, headers };
}

/**
 * The Set-Cookie value for a new token. Browsers drop `SameSite=None` cookies that are not
 * `Secure`, so on plain http (local development) the cookie is `SameSite=Lax` instead.
 */
export function affinityCookie(token: string, secure: boolean, maxAgeSeconds: number): string {
  const attrs = [`${TOKEN_COOKIE}=${token}`, "Path=/", `Max-Age=${maxAgeSeconds}`, "HttpOnly"];
  attrs.push(secure ? "SameSite=None; Secure" : "SameSite=Lax");
  return attrs.join("; ");
}

/** A Set-Cookie value that removes the affinity cookie. */
export function clearedAffinityCookie(secure: boolean): string {
  return `${TOKEN_COOKIE}=; Path=/; Max-Age=0; HttpOnly; ${secure ? "SameSite=None; Secure" : "SameSite=Lax"}`;
}

/** Adds the token to a response as cookie and header; the response must have mutable headers. */
export function attachToken(headers: Headers, token: string, secure: boolean, maxAgeSeconds: number): void {
  headers.append("set-cookie", affinityCookie(token, secure, maxAgeSeconds));
  headers.set(TOKEN_HEADER, token);
  // Lets browser code read the header on cross-origin responses.
  const exposed = headers.get("access-control-expose-headers");
  if (exposed !== null && !/x-affinity-token/i.test(exposed)) {
    headers.set("access-control-expose-headers", `${exposed}, X-Affinity-Token`);
  }
}
