// PROXY protocol v1: one human-readable line,
//   "PROXY TCP4|TCP6 <src> <dst> <sport> <dport>\r\n"  or  "PROXY UNKNOWN[ anything]\r\n",
// at most 107 bytes including the CRLF (proxy-protocol.txt §2.1). Anything else is
// rejected: a receiver that "fixes up" a sloppy header is one an attacker can steer.

import { isIPv4, isIPv6 } from "node:net";
import type { ProxyParseResult } from "./proxy-protocol.ts";

export const V1_SIGNATURE = Buffer.from("PROXY ", "latin1");
export const V1_MAX_LENGTH = 107;

export function parseProxyV1(buffer: Buffer): ProxyParseResult {
  const window = buffer.subarray(0, V1_MAX_LENGTH);
  const crlf = window.indexOf("\r\n", 0, "latin1");
  if (crlf === -1) {
    // A lone LF, or any byte outside printable ASCII, can never become a valid line.
    const bad = firstNonPrintable(window, window.length);
    if (bad !== -1 && !(bad === window.length - 1 && window[bad] === 0x0d)) {
      return invalid("v1 header contains a control or non-ASCII byte");
    }
    return buffer.length >= V1_MAX_LENGTH
      ? invalid(`v1 header has no CRLF within ${V1_MAX_LENGTH} bytes`)
      : { status: "incomplete" };
  }
  if (firstNonPrintable(window, crlf) !== -1) {
    return invalid("v1 header contains a control or non-ASCII byte");
  }
  const line = window.toString("latin1", 0, crlf);
  const length = crlf + 2;
  const fields = line.split(" ");
  const protocol = fields[1];

  if (protocol === "UNKNOWN") {
    // The spec lets the sender append addresses after UNKNOWN; the receiver ignores them.
    return complete("unknown", null, null, length);
  }
  if (protocol !== "TCP4" && protocol !== "TCP6") {
    return invalid(`v1 header has unsupported protocol ${JSON.stringify(protocol ?? "")}`);
  }
  if (fields.length !== 6) {
    return invalid(`v1 ${protocol} header needs 6 space-separated fields, got ${fields.length}`);
  }
  const [, , src = "", dst = "", sport = "", dport = ""] = fields;
  const isAddress = protocol === "TCP4" ? isIPv4 : isIPv6;
  if (!isAddress(src) || !isAddress(dst)) {
    return invalid(`v1 ${protocol} header has a malformed address`);
  }
  const sourcePort = parsePort(sport);
  const destinationPort = parsePort(dport);
  if (sourcePort === null || destinationPort === null) {
    return invalid(`v1 ${protocol} header has a malformed port`);
  }
  return complete(
    protocol === "TCP4" ? "tcp4" : "tcp6",
    { address: src, port: sourcePort },
    { address: dst, port: destinationPort },
    length,
  );
}

function complete(
  family: "tcp4" | "tcp6" | "unknown",
  source: { address: string; port: number } | null,
  destination: { address: string; port: number } | null,
  length: number,
): ProxyParseResult {
  return {
    status: "complete",
    header: { version: 1, command: "proxy", family, source, destination, tlvs: [], length },
  };
}

/** Decimal 0..65535 without sign, spaces or leading zeros (as HAProxy emits them). */
function parsePort(text: string): number | null {
  if (!/^(0|[1-9][0-9]{0,4})$/.test(text)) return null;
  const port = Number(text);
  return port <= 65535 ? port : null;
}

function firstNonPrintable(bytes: Uint8Array, end: number): number {
  for (let i = 0; i < end; i++) {
    const byte = bytes[i] ?? 0;
    if (byte < 0x20 || byte > 0x7e) return i;
  }
  return -1;
}

function invalid(reason: string): ProxyParseResult {
  return { status: "invalid", reason };
}
