// Trusted-source lists ("--proxy-trusted", "--forwarded-trusted"): single addresses or
// CIDR blocks, IPv4 and IPv6. A peer on a dual-stack socket shows up as
// "::ffff:127.0.0.1"; it is matched (and reported) as the IPv4 address it really is.

import { BlockList, isIP } from "node:net";

export type AddressMatcher = {
  /** The entries as configured, normalised, for logs and the ready line. */
  readonly entries: readonly string[];
  has(address: string | undefined): boolean;
};

/** "::ffff:1.2.3.4" → "1.2.3.4"; strips an IPv6 zone ("fe80::1%eth0"); lowercases IPv6. */
export function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped?.[1] !== undefined) return mapped[1];
  const zone = address.indexOf("%");
  const bare = zone === -1 ? address : address.slice(0, zone);
  return bare.includes(":") ? bare.toLowerCase() : bare;
}

/**
 * Builds a matcher from entries like "127.0.0.1", "::1", "10.0.0.0/8", "fd00::/8".
 * Throws a TypeError naming the offending entry; callers prefix the flag name.
 */
export function createAddressMatcher(entries: readonly string[]): AddressMatcher {
  const list = new BlockList();
  const normalized: string[] = [];
  for (const raw of entries) {
    const entry = raw.trim();
    if (entry === "") continue;
    const slash = entry.indexOf("/");
    const address = normalizeAddress(slash === -1 ? entry : entry.slice(0, slash));
    const family = isIP(address);
    if (family === 0) throw new TypeError(`not an IP address or CIDR block: ${JSON.stringify(raw)}`);
    const type = family === 4 ? "ipv4" : "ipv6";
    if (slash === -1) {
      list.addAddress(address, type);
      normalized.push(address);
      continue;
    }
    const prefixText = entry.slice(slash + 1);
    const prefix = Number(prefixText);
    const maxPrefix = family === 4 ? 32 : 128;
    if (!/^\d{1,3}$/.test(prefixText) || prefix > maxPrefix) {
      throw new TypeError(`bad CIDR prefix in ${JSON.stringify(raw)}`);
    }
    list.addSubnet(address, prefix, type);
    normalized.push(`${address}/${prefix}`);
  }
  return {
    entries: normalized,
    has(candidate) {
      if (candidate === undefined) return false;
      const address = normalizeAddress(candidate);
      const family = isIP(address);
      if (family === 0) return false;
      return list.check(address, family === 4 ? "ipv4" : "ipv6");
    },
  };
}

/** Splits a flag value like "127.0.0.1,::1" (also accepts "|" for per-listener overrides). */
export function splitAddressList(value: string): string[] {
  return value
    .split(/[,|]/)
    .map((part) => part.trim())
    .filter((part) => part !== "");
}
