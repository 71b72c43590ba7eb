// PROXY protocol header parsing (HAProxy proxy-protocol.txt, versions 1 and 2).
//
// Pure functions over a byte buffer: no sockets, no timers. The listener feeds whatever
// bytes have arrived so far and acts on the result, so a header split over several TCP
// chunks is just a run of "incomplete" answers followed by "complete".

import { parseProxyV1, V1_MAX_LENGTH, V1_SIGNATURE } from "./proxy-protocol-v1.ts";
import { DEFAULT_V2_MAX_LENGTH, parseProxyV2, V2_SIGNATURE } from "./proxy-protocol-v2.ts";

export type ProxyAddress = { address: string; port: number };

/** One Type-Length-Value record of a v2 header (PP2_TYPE_*), value kept raw. */
export type ProxyTlv = { type: number; value: Buffer };

export type ProxyFamily = "tcp4" | "tcp6" | "udp4" | "udp6" | "unix-stream" | "unix-dgram" | "unknown";

export type ProxyHeader = {
  version: 1 | 2;
  /** "local": the proxy speaks for itself (health checks); use the real socket endpoints. */
  command: "proxy" | "local";
  family: ProxyFamily;
  /** Null for LOCAL, UNKNOWN/UNSPEC and UNIX families: there is no IP address to honour. */
  source: ProxyAddress | null;
  destination: ProxyAddress | null;
  /** Always empty for v1. In wire order, duplicates kept. */
  tlvs: ProxyTlv[];
  /** Bytes the header occupies at the start of the stream; what follows is payload. */
  length: number;
};

export type ProxyParseResult =
  | { status: "absent" }
  | { status: "incomplete" }
  | { status: "invalid"; reason: string }
  | { status: "complete"; header: ProxyHeader };

export type ProxySignature = "v1" | "v2" | "partial" | "absent";

export type ProxyParseOptions = {
  /** Upper bound for a whole v2 header (16-byte preamble + address block + TLVs). */
  maxV2Length?: number;
};

export const PP2_TYPE_ALPN = 0x01;
export const PP2_TYPE_AUTHORITY = 0x02;
export const PP2_TYPE_CRC32C = 0x03;
export const PP2_TYPE_NOOP = 0x04;
export const PP2_TYPE_UNIQUE_ID = 0x05;
export const PP2_TYPE_SSL = 0x20;
export const PP2_TYPE_NETNS = 0x30;

/**
 * Says whether the stream starts with a PROXY signature, without parsing further.
 * "partial" means the bytes so far are a prefix of a signature: wait for more.
 * Lets a `refuse` listener (or an untrusted peer) be turned away before the rest of a
 * header arrives, and lets plain HTTP through after its first byte or two.
 */
export function detectProxySignature(bytes: Uint8Array): ProxySignature {
  if (bytes.length === 0) return "partial";
  const v1 = prefixMatch(bytes, V1_SIGNATURE);
  if (v1 === "full") return "v1";
  const v2 = prefixMatch(bytes, V2_SIGNATURE);
  if (v2 === "full") return "v2";
  return v1 === "prefix" || v2 === "prefix" ? "partial" : "absent";
}

/** Parses a header at the start of `bytes`. Never throws on any input. */
export function parseProxyHeader(bytes: Uint8Array, options: ProxyParseOptions = {}): ProxyParseResult {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (detectProxySignature(buffer)) {
    case "absent":
      return { status: "absent" };
    case "partial":
      return { status: "incomplete" };
    case "v1":
      return parseProxyV1(buffer);
    case "v2":
      return parseProxyV2(buffer, options.maxV2Length ?? DEFAULT_V2_MAX_LENGTH);
  }
}

/** Convenience accessors for TLVs the origin cares about. */
export function findTlv(header: ProxyHeader, type: number): Buffer | undefined {
  return header.tlvs.find((tlv) => tlv.type === type)?.value;
}

export function proxyUniqueId(header: ProxyHeader): string | undefined {
  return findTlv(header, PP2_TYPE_UNIQUE_ID)?.toString("hex");
}

/** The most bytes any header can need before we can tell it is complete. */
export function maxHeaderLength(options: ProxyParseOptions = {}): number {
  return Math.max(V1_MAX_LENGTH, options.maxV2Length ?? DEFAULT_V2_MAX_LENGTH);
}

function prefixMatch(bytes: Uint8Array, signature: Uint8Array): "full" | "prefix" | "none" {
  const n = Math.min(bytes.length, signature.length);
  for (let i = 0; i < n; i++) {
    if (bytes[i] !== signature[i]) return "none";
  }
  return n === signature.length ? "full" : "prefix";
}
