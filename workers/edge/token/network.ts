/**
 * Optional network binding of affinity tokens (TOKEN_NETWORK_BINDING = "on"; default
 * "off"). When on, a new token carries `net`: a hash of the client's network — its IPv4
 * /24 or IPv6 /48, as the edge saw it (CF-Connecting-IP) — and a CR request whose address
 * lies in another network is refused (401 `token_wrong_network`), so a stolen token is of
 * no use from elsewhere.
 *
 * The trade-off: a client that changes networks (a phone moving from Wi-Fi to mobile
 * data, a laptop changing networks) loses its session and must start a new one. Tokens
 * minted while binding was off carry no `net` and keep working; while binding is off,
 * `net` is not checked.
 *
 * The hash only keeps the address out of plain sight in the token; it is not secret (a
 * /24 is quickly guessed from its hash). The signature is what makes it unforgeable.
 */
import { base64url } from "jose";
import { ConfigError } from "../../../config/config-error.ts";
import type { AffinityClaims } from "./claims.ts";

export type NetworkBinding = "off" | "on";

export function resolveNetworkBinding(value: string | undefined): NetworkBinding {
  if (value === undefined || value === "" || value === "off") return "off";
  if (value === "on") return "on";
  throw new ConfigError("TOKEN_NETWORK_BINDING", `must be "off" or "on", got ${JSON.stringify(value)}`);
}

/** The address the edge vouches for (set by Cloudflare's front line, never by clients). */
export function clientAddress(request: Request): string | undefined {
  const ip = request.headers.get("cf-connecting-ip");
  return ip === null || ip === "" ? undefined : ip;
}

/** The client's network as a prefix string ("203.0.113.0/24", "2001:db8:1::/48"), or undefined. */
export function networkPrefix(ip: string): string | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  const v4 = mapped?.[1] ?? ip;
  const octets = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(v4);
  if (octets !== null) {
    const [a, b, c] = octets.slice(1, 4).map(Number);
    if ([a, b, c].some((n) => n === undefined || n > 255)) return undefined;
    return `${a}.${b}.${c}.0/24`;
  }
  const groups = ipv6Groups(ip);
  if (groups === undefined) return undefined;
  return `${groups.slice(0, 3).map((g) => g.toString(16)).join(":")}::/48`;
}

/** The `net` claim for a client address: base64url of the first 16 bytes of SHA-256. */
export async function networkClaim(ip: string | undefined): Promise<string | undefined> {
  if (ip === undefined) return undefined;
  const prefix = networkPrefix(ip);
  if (prefix === undefined) return undefined;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`push-edge net\u0000${prefix}`));
  return base64url.encode(new Uint8Array(digest).slice(0, 16));
}

/** What to put in a new token: the network claim when binding is on, else nothing. */
export async function mintNetwork(binding: string | undefined, request: Request): Promise<string | undefined> {
  if (resolveNetworkBinding(binding) === "off") return undefined;
  return networkClaim(clientAddress(request));
}

/** Whether a verified token may be used from this request's network. */
export async function sameNetwork(binding: string | undefined, claims: AffinityClaims, request: Request): Promise<boolean> {
  if (resolveNetworkBinding(binding) === "off" || claims.net === undefined) return true;
  return (await networkClaim(clientAddress(request))) === claims.net;
}

export function ipv6Groups(ip: string): number[] | undefined {
  const zoneless = ip.replace(/%.*$/, "");
  const halves = zoneless.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string | undefined): number[] | undefined => {
    if (part === undefined || part === "") return [];
    const out: number[] = [];
    for (const g of part.split(":")) {
      if (!/^[0-9a-f]{1,4}$/i.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parse(halves[0]);
  const tail = parse(halves[1]);
  if (head === undefined || tail === undefined) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const fill = 8 - head.length - tail.length;
  if (fill < 1) return undefined;
  return [...head, ...new Array<number>(fill).fill(0), ...tail];
}
