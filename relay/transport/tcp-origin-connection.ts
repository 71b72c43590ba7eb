/**
 * The start of every `tcp` relay: the PROXY header that names the client, the connection
 * it opens, and the request headers as the origin sees them over a raw connection.
 *
 * The client address is the edge's own `X-Forwarded-For`: the edge drops every client
 * copy of that header and sets it from CF-Connecting-IP, so here it is the address the
 * edge saw and nothing a client typed. A value that is not one IP address is "unknown".
 */
import { originHeaders } from "../http-relay.ts";
import type { Connection } from "./tcp/connection.ts";
import { openOriginConnection } from "./tcp/connect.ts";
import { parseIp, type IpAddress } from "./tcp/ip-address.ts";
import { authTlvPlaceholder, signProxyHeader } from "./tcp/proxy-auth.ts";
import { proxyAuthKey } from "./tcp/proxy-auth-keys.ts";
import { proxyHeaderV1, proxyHeaderV2, uniqueIdTlv, urlPort, type ProxyHeaderInput } from "./tcp/proxy-header.ts";
import type { OriginLink } from "./origin-link.ts";
import type { ProxySettings } from "./settings.ts";

/** Workers do not expose the client's source port; see proxy-header.ts. */
export const UNKNOWN_CLIENT_PORT = 0;

/** Connection-level headers (RFC 9110 §7.6.1): they describe the client's hop, not ours. */
const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"];

export function clientAddress(request: Request): IpAddress | undefined {
  const value = request.headers.get("x-forwarded-for");
  if (value === null) return undefined;
  const first = value.split(",")[0]?.trim() ?? "";
  return parseIp(first);
}

/** The PROXY header for this request's connection, signed when the origin's settings say so. */
export async function proxyHeaderFor(request: Request, link: OriginLink, proxy: ProxySettings): Promise<Uint8Array> {
  const input: ProxyHeaderInput = {
    client: clientAddress(request),
    clientPort: UNKNOWN_CLIENT_PORT,
    destinationPort: urlPort(new URL(request.url)),
  };
  if (proxy.version === 1) return proxyHeaderV1(input);
  const tlvs = [uniqueIdTlv(link.sessionKey)];
  if (proxy.authKid === undefined) return proxyHeaderV2(input, tlvs);
  const key = proxyAuthKey(link.proxyAuthKeys, proxy.authKid);
  if (key === undefined) throw new Error(`PROXY_AUTH_KEYS has no key ${JSON.stringify(proxy.authKid)} to sign the PROXY header`);
  const issuedAt = Math.floor(Date.now() / 1000);
  const header = proxyHeaderV2(input, [...tlvs, authTlvPlaceholder(proxy.authKid, issuedAt)]);
  return signProxyHeader(header, await key);
}

export async function openTcpOrigin(request: Request, link: OriginLink, proxy: ProxySettings): Promise<Connection> {
  return openOriginConnection(link.url, await proxyHeaderFor(request, link, proxy));
}

/**
 * Headers for the origin over a raw connection: what the fetch path sends, minus the
 * client hop's connection headers and Cloudflare's front-line `cf-*` headers (which the
 * runtime's own fetch() does not pass on as they are), with Host naming the origin as
 * fetch() would, and one request per connection.
 */
export function tcpOriginHeaders(request: Request, target: URL): Headers {
  const headers = originHeaders(request);
  const listed = (headers.get("connection") ?? "").split(",").map((t) => t.trim().toLowerCase());
  for (const name of [...HOP_BY_HOP, ...listed]) if (name !== "") headers.delete(name);
  for (const [name] of [...headers]) if (name.startsWith("cf-") || name === "cdn-loop") headers.delete(name);
  headers.set("host", target.host);
  headers.set("connection", "close");
  return headers;
}

/** Response headers that framed the origin's hop; the runtime frames the client's itself. */
export function clientResponseHeaders(headers: ReadonlyArray<readonly [string, string]>, drop: readonly string[] = []): Headers {
  const out = new Headers();
  const listed = headers
    .filter(([n]) => n === "connection")
    .flatMap(([, v]) => v.split(","))
    .map((t) => t.trim().toLowerCase());
  const skip = new Set([...HOP_BY_HOP, ...listed, ...drop]);
  for (const [name, value] of headers) if (!skip.has(name)) out.append(name, value);
  return out;
}
