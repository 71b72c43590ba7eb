/**
 * The authentication TLV of push-edge's PROXY v2 headers: lets an origin check that a
 * header was written by this edge (holder of a shared key), so it can honour PROXY
 * headers from Cloudflare's wide egress ranges without trusting everyone in them.
 *
 * TLV type 0xE0 (PP2_TYPE_MIN_CUSTOM, the range the spec reserves for applications), value:
 *
 *   offset  size  field
 *   0       1     format version, 0x01
 *   1       4     issued-at, Unix seconds, big-endian (origins refuse stale headers)
 *   5       1     kid length N (1..64)
 *   6       N     kid, ASCII (names the key in PROXY_AUTH_KEYS / the origin's key file)
 *   6+N     32    HMAC-SHA256(key, whole header with these 32 bytes set to zero)
 *
 * "Whole header" is every byte from the v2 signature through the last TLV, as sent — so
 * the MAC covers the addresses, ports, the unique id (session key) and the length field.
 * The edge writes this TLV last; a verifier must not rely on that and should find it by
 * walking the TLVs.
 */
import type { ProxyTlv } from "./proxy-header.ts";

export const PP2_TYPE_PUSH_EDGE_AUTH = 0xe0;
export const AUTH_FORMAT_VERSION = 1;
export const AUTH_MAC_BYTES = 32;
export const MAX_KID_LENGTH = 64;

/** The TLV with its MAC zeroed; `signProxyHeader` fills the MAC once the header is laid out. */
export function authTlvPlaceholder(kid: string, issuedAtSeconds: number): ProxyTlv {
  const kidBytes = new TextEncoder().encode(kid);
  if (kidBytes.length === 0 || kidBytes.length > MAX_KID_LENGTH || !/^[\x21-\x7e]+$/.test(kid)) {
    throw new RangeError(`auth kid must be 1-${MAX_KID_LENGTH} printable ASCII characters`);
  }
  const value = new Uint8Array(6 + kidBytes.length + AUTH_MAC_BYTES);
  value[0] = AUTH_FORMAT_VERSION;
  new DataView(value.buffer).setUint32(1, issuedAtSeconds >>> 0);
  value[5] = kidBytes.length;
  value.set(kidBytes, 6);
  return { type: PP2_TYPE_PUSH_EDGE_AUTH, value };
}

/**
 * Fills the MAC of a header whose last TLV is the placeholder from `authTlvPlaceholder`.
 * The MAC bytes are the header's last 32 bytes and zero while the MAC is computed.
 */
export async function signProxyHeader(header: Uint8Array, key: CryptoKey): Promise<Uint8Array> {
  const signed = new Uint8Array(header);
  const macAt = signed.length - AUTH_MAC_BYTES;
  signed.fill(0, macAt);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, signed));
  signed.set(mac, macAt);
  return signed;
}
