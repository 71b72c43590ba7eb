/**
 * Client-address headers for the origin. Whatever a client sent in these headers is
 * dropped: the only address the edge vouches for is the one it saw itself
 * (`CF-Connecting-IP`, set by Cloudflare's front line and not forgeable by clients).
 */

/** Headers a client could use to claim an address; never passed through. */
const CLAIM_HEADERS = ["forwarded", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-real-ip", "true-client-ip"];

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

/** Replaces client-supplied address claims with the edge's own. Mutates `headers`. */
export function setForwardingHeaders(headers: Headers, view: ClientView): void {
  for (const h of CLAIM_HEADERS) headers.delete(h);
  if (view.ip !== undefined) headers.set("x-forwarded-for", view.ip);
  headers.set("x-forwarded-proto", view.proto);
  headers.set("x-forwarded-host", view.host);
  const hostPart = `host="${view.host.replace(/"/g, "")}"`;
  const forPart = view.ip === undefined ? "for=unknown" : `for=${forwardedNode(view.ip)}`;
  headers.set("forwarded", `${forPart};proto=${view.proto};${hostPart}`);
}
