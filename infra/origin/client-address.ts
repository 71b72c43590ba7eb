// Which client address the origin attributes a request to, and why.
//
// Precedence: the source of a PROXY header the listener trusted → else the first hop of
// `Forwarded: for=` (RFC 7239) or `X-Forwarded-For`, but only when the TCP peer is a
// trusted forwarder (anyone can type those headers) → else the TCP peer itself.

import type { IncomingHttpHeaders } from "node:http";
import { isIP } from "node:net";
import { normalizeAddress, type AddressMatcher } from "./address-match.ts";
import type { ProxyHeader } from "./proxy-protocol.ts";

export type ClientVia = "proxy" | "forwarded" | "socket";
export type ClientAddress = { client: string; via: ClientVia };

export type ConnectionAddresses = {
  /** The TCP peer, normalised. */
  peer: string;
  /** The PROXY header honoured for this connection, if any (trusted sources only). */
  proxy: ProxyHeader | null;
};

export function resolveClientAddress(
  connection: ConnectionAddresses,
  headers: IncomingHttpHeaders,
  forwardedTrusted: AddressMatcher,
): ClientAddress {
  // LOCAL and UNKNOWN headers carry no source: the proxy speaks for itself.
  const proxied = connection.proxy?.source?.address;
  if (proxied !== undefined) return { client: normalizeAddress(proxied), via: "proxy" };

  if (forwardedTrusted.has(connection.peer)) {
    const forwarded = firstHeader(headers.forwarded);
    const fromForwarded = forwarded === undefined ? undefined : forwardedFor(forwarded);
    if (fromForwarded !== undefined) return { client: fromForwarded, via: "forwarded" };
    const xff = firstHeader(headers["x-forwarded-for"]);
    const fromXff = xff === undefined ? undefined : xForwardedFor(xff);
    if (fromXff !== undefined) return { client: fromXff, via: "forwarded" };
  }
  return { client: connection.peer, via: "socket" };
}

/**
 * The `for=` node of the first element of a Forwarded header, as a bare IP address.
 * Undefined for "unknown", obfuscated identifiers ("_hidden") or anything malformed.
 */
export function forwardedFor(value: string): string | undefined {
  const first = splitOutsideQuotes(value, ",")[0];
  if (first === undefined) return undefined;
  for (const pair of splitOutsideQuotes(first, ";")) {
    const eq = pair.indexOf("=");
    if (eq === -1) continue;
    if (pair.slice(0, eq).trim().toLowerCase() !== "for") continue;
    return nodeAddress(unquote(pair.slice(eq + 1).trim()));
  }
  return undefined;
}

/** The first (client-most) hop of an X-Forwarded-For list, as a bare IP address. */
export function xForwardedFor(value: string): string | undefined {
  const first = value.split(",")[0];
  return first === undefined ? undefined : nodeAddress(first.trim());
}

/** Accepts "1.2.3.4", "1.2.3.4:80", "2001:db8::1", "[2001:db8::1]", "[2001:db8::1]:80". */
function nodeAddress(node: string): string | undefined {
  let address = node;
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(node);
  if (bracketed?.[1] !== undefined) {
    address = bracketed[1];
  } else if (/^\d{1,3}(?:\.\d{1,3}){3}:\d{1,5}$/.test(node)) {
    address = node.slice(0, node.lastIndexOf(":"));
  }
  return isIP(address) === 0 ? undefined : normalizeAddress(address);
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  // Node joins repeated Forwarded / X-Forwarded-For lines with ", ", which keeps the
  // first line's first hop first; an array only appears for set-cookie, but be safe.
  return Array.isArray(value) ? value.join(", ") : value;
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    return value.slice(1, -1).replace(/\\(.)/g, "$1");
  }
  return value;
}

function splitOutsideQuotes(value: string, separator: string): string[] {
  const parts: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const char = value[i] ?? "";
    if (quoted && char === "\\") {
      current += char + (value[i + 1] ?? "");
      i++;
      continue;
    }
    if (char === '"') quoted = !quoted;
    if (char === separator && !quoted) {
      parts.push(current.trim());
      current = "";
      continue;
    }
    current += char;
  }
  parts.push(current.trim());
  return parts;
}
