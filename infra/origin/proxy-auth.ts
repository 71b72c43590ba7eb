// Verifies push-edge's PROXY v2 authentication TLV (type 0xE0), so a listener can honour
// PROXY headers from a wide source range (Cloudflare's egress) and still know each header
// came from the edge. Format (relay/transport/tcp/proxy-auth.ts):
//   u8 version (1) | u32 issued-at (Unix s, BE) | u8 kid length N | kid | 32-byte HMAC-SHA256
// The MAC covers the whole header as sent, with the 32 MAC bytes zeroed.
//
// The rule a listener applies: a header that names a client (a source address) must carry
// a valid TLV; one that claims nothing (LOCAL, UNKNOWN, UNSPEC — health checks) may omit
// it, and is checked like any other if it carries one.

import { createHmac, timingSafeEqual } from "node:crypto";
import type { ProxyHeader } from "./proxy-protocol.ts";

export const PP2_TYPE_PUSH_EDGE_AUTH = 0xe0;
const FORMAT_VERSION = 1;
const MAC_BYTES = 32;

export type ProxyAuth = {
  /** kid → HMAC key. */
  keys: ReadonlyMap<string, Buffer>;
  /** How far issued-at may be from this origin's clock, either way. */
  maxSkewMs: number;
};

export type ProxyAuthResult = { ok: true; kid: string | null } | { ok: false; reason: string };

/** `raw` holds the header's bytes (at least header.length of them) as received. */
export function verifyProxyAuth(raw: Uint8Array, header: ProxyHeader, auth: ProxyAuth, now = Date.now()): ProxyAuthResult {
  const found = header.tlvs.filter((tlv) => tlv.type === PP2_TYPE_PUSH_EDGE_AUTH);
  if (found.length === 0) {
    return header.source === null ? { ok: true, kid: null } : { ok: false, reason: "no authentication TLV" };
  }
  const tlv = found[0];
  if (found.length > 1 || tlv === undefined) return { ok: false, reason: "more than one authentication TLV" };
  const value = tlv.value;
  if (value.length < 6 || value.readUInt8(0) !== FORMAT_VERSION) return { ok: false, reason: "unknown authentication TLV format" };
  const kidLength = value.readUInt8(5);
  if (value.length !== 6 + kidLength + MAC_BYTES) return { ok: false, reason: "authentication TLV has the wrong length" };
  const kid = value.toString("latin1", 6, 6 + kidLength);
  const key = auth.keys.get(kid);
  if (key === undefined) return { ok: false, reason: `unknown key id ${JSON.stringify(kid)}` };
  const issuedAtMs = value.readUInt32BE(1) * 1000;
  if (Math.abs(now - issuedAtMs) > auth.maxSkewMs) {
    return { ok: false, reason: `issued ${Math.round((now - issuedAtMs) / 1000)} s from now, beyond ${auth.maxSkewMs / 1000} s` };
  }
  const macAt = tlvValueOffset(header, tlv) + 6 + kidLength;
  const copy = Buffer.from(raw.subarray(0, header.length));
  const received = Buffer.from(copy.subarray(macAt, macAt + MAC_BYTES));
  copy.fill(0, macAt, macAt + MAC_BYTES);
  const expected = createHmac("sha256", key).update(copy).digest();
  return timingSafeEqual(expected, received) ? { ok: true, kid } : { ok: false, reason: "authentication TLV has a bad MAC" };
}

/** Where `target`'s value starts in the header: TLVs run, back to back, to the header's end. */
function tlvValueOffset(header: ProxyHeader, target: ProxyHeader["tlvs"][number]): number {
  let at = header.length - header.tlvs.reduce((n, tlv) => n + 3 + tlv.value.length, 0);
  for (const tlv of header.tlvs) {
    if (tlv === target) return at + 3;
    at += 3 + tlv.value.length;
  }
  return -1;
}

/**
 * Reads a key file: JSON `{"<kid>": "<base64url secret, >= 32 bytes>"}`, the same shape as
 * the edge's PROXY_AUTH_KEYS secret. Throws a TypeError naming the bad entry.
 */
export function parseProxyAuthKeys(json: string): Map<string, Buffer> {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new TypeError("key file is not valid JSON");
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new TypeError('key file must be a JSON object {"<kid>": "<base64url secret>"}');
  }
  const keys = new Map<string, Buffer>();
  for (const [kid, secret] of Object.entries(raw)) {
    if (typeof secret !== "string" || !/^[A-Za-z0-9_-]+={0,2}$/.test(secret)) throw new TypeError(`key ${JSON.stringify(kid)} is not base64url`);
    const bytes = Buffer.from(secret, "base64url");
    if (bytes.length < 32) throw new TypeError(`key ${JSON.stringify(kid)} must decode to at least 32 bytes`);
    keys.set(kid, bytes);
  }
  if (keys.size === 0) throw new TypeError("key file holds no key");
  return keys;
}
