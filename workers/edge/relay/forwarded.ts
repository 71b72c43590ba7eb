/**
 * Client-address headers for the origin, and the edge's own request headers.
 *
 * Whatever a client sent as a claim of its address is dropped (F11 of issue 16): the only
 * address the edge vouches for is the one it saw itself (`CF-Connecting-IP`, set by
 * Cloudflare's front line and not forgeable by clients). Dropped is the whole known family
 * — every `X-Forwarded-*`, `Forwarded`, and the vendor and framework spellings that
 * servers and their libraries read as "the client's address" (`X-Real-IP`, `X-Client-IP`,
 * `True-Client-IP`, `X-Cluster-Client-IP`, `Fastly-Client-IP`, ...). A deny-list, not an
 * allow-list of request headers: the edge relays arbitrary push protocols whose
 * applications send headers of their own (auth, Socket.IO, TLCP), which an allow-list
 * would break; the family of address headers is known and small, and an origin that reads
 * an exotic one not listed here still only ever sees what a client typed there, never a
 * value the edge set (origins should read the edge's `X-Forwarded-For` / `Forwarded`).
 *
 * Edge-owned headers (F10): the edge sets `X-Forwarded-For/-Proto/-Host`, `Forwarded` and,
 * on CR requests, `X-Push-Edge-Token`. A client's `Connection` header names hop-by-hop
 * headers of the client's own hop, which a proxy removes before forwarding (RFC 9110
 * §7.6.1) — and a relay that honours it downstream (the tcp transport does) would then
 * remove the edge's copies. So those names are taken out of the client's `Connection`
 * header here, once, for every transport.
 */
import { FORWARDED_TOKEN_HEADER } from "../../../protocols/token-carriers.ts";

/** Headers a client could use to claim an address; never passed through. */
const CLAIM_HEADERS = new Set([
  "forwarded",
  "forwarded-for",
  "x-forwarded",
  "x-real-ip",
  "true-client-ip",
  "x-true-client-ip",
  "x-client-ip",
  "client-ip",
  "x-cluster-client-ip",
  "fastly-client-ip",
  "x-original-forwarded-for",
  "x-originating-ip",
  "x-remote-ip",
  "x-remote-addr",
  "x-proxyuser-ip",
  "proxy-client-ip",
  "wl-proxy-client-ip",
  "x-envoy-external-address",
  "x-azure-clientip",
  "x-azure-socketip",
  "x-appengine-user-ip",
]);
/** Every `X-Forwarded-*` (-For, -Proto, -Host, -Port, -Server, -Ssl, -Scheme, -Prefix...). */
const CLAIM_PREFIX = "x-forwarded-";

/** Request headers only the edge sets; a client's `Connection` header cannot remove them. */
export const EDGE_OWNED_REQUEST_HEADERS: readonly string[] = ["forwarded", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", FORWARDED_TOKEN_HEADER];

export interface ClientView {
  /** The address the edge saw, or undefined where the runtime does not say (local dev). */
  readonly ip: string | undefined;
  readonly proto: "http" | "https";
  readonly host: string;
}

export function clientView(request: Request, url: URL): ClientView {
  const ip = request.headers.get("cf-connecting-ip") ?? undefined;
  return { ip: ip === "" ? undefined : ip, proto: url.protocol === "https:" ? "https" : "http", host: url.host };
}

/** RFC 7239 node: IPv6 addresses are bracketed and quoted. */
function forwardedNode(ip: string): string {
  return ip.includes(":") ? `"[${ip}]"` : ip;
}

/**
 * Drops every client-sent address claim (the family above). Mutates `headers`. `head` is
 * the client's header list as the edge already read it (routes/input-limits.ts
 * `requestHead`): the claims are looked for there, so a request without any — nearly all —
 * makes no call into the runtime here. A delete per listed name and a second walk over the
 * headers cost ≈ 20–70 µs of a CR's CPU (`node tools/profile/cpu-profile.ts --workload cr
 * --inclusive outboundRequest`, docs/performance.md).
 */
export function dropAddressClaims(headers: Headers, head: Iterable<readonly [string, string]> = [...headers]): void {
  for (const [name] of head) {
    // `Headers` iterates lower-case names; a list from elsewhere may not be.
    const lower = name.toLowerCase();
    if (CLAIM_HEADERS.has(lower) || lower.startsWith(CLAIM_PREFIX)) headers.delete(lower);
  }
}

/** Takes edge-owned header names out of the client's `Connection` header. Mutates `headers`. */
export function protectEdgeHeaders(headers: Headers): void {
  const connection = headers.get("connection");
  if (connection === null) return;
  const tokens = connection.split(",").map((t) => t.trim()).filter((t) => t !== "");
  const kept = tokens.filter((t) => !EDGE_OWNED_REQUEST_HEADERS.includes(t.toLowerCase()));
  if (kept.length === tokens.length) return;
  if (kept.length === 0) headers.delete("connection");
  else headers.set("connection", kept.join(", "));
}

/** Replaces client-supplied address claims with the edge's own. Mutates `headers`; `head` as in dropAddressClaims. */
export function setForwardingHeaders(headers: Headers, view: ClientView, head?: Iterable<readonly [string, string]>): void {
  dropAddressClaims(headers, head);
  protectEdgeHeaders(headers);
  if (view.ip !== undefined) headers.set("x-forwarded-for", view.ip);
  headers.set("x-forwarded-proto", view.proto);
  headers.set("x-forwarded-host", view.host);
  const hostPart = `host="${view.host.replace(/"/g, "")}"`;
  const forPart = view.ip === undefined ? "for=unknown" : `for=${forwardedNode(view.ip)}`;
  headers.set("forwarded", `${forPart};proto=${view.proto};${hostPart}`);
}
