/**
 * PROXY protocol headers as the edge writes them (HAProxy proxy-protocol.txt, v1 and v2):
 * the first bytes of every `tcp` connection, naming the client the edge served.
 *
 * What goes in the address fields:
 * - source address: the address the edge saw (CF-Connecting-IP, via X-Forwarded-For set by
 *   the edge itself); when it is unknown, v1 says `UNKNOWN` and v2 uses family UNSPEC, so
 *   the origin falls back to the connection's own endpoints instead of trusting a guess;
 * - source port: 0 — Workers do not expose the client's port, and 0 is the one value no
 *   real connection uses, so nobody mistakes it for a real port;
 * - destination address: the unspecified address (0.0.0.0 / ::) of the source's family —
 *   the client connected to Cloudflare's anycast address, which a Worker cannot see;
 * - destination port: the port of the URL the client used (443, 80, or explicit).
 */
import type { IpAddress } from "./ip-address.ts";

export const PP2_TYPE_UNIQUE_ID = 0x05;
/** The spec caps PP2_TYPE_UNIQUE_ID at 128 bytes. */
export const MAX_UNIQUE_ID_BYTES = 128;

const V2_SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];
const V2_PROXY_COMMAND = 0x21; // version 2, command PROXY
const V2_LOCAL_COMMAND = 0x20; // version 2, command LOCAL
const FAMILY_UNSPEC = 0x00;
const FAMILY_TCP4 = 0x11;
const FAMILY_TCP6 = 0x21;

export interface ProxyTlv {
  readonly type: number;
  readonly value: Uint8Array;
}

export interface ProxyHeaderInput {
  /** The client the edge served; undefined when the edge does not know it. */
  readonly client: IpAddress | undefined;
  readonly clientPort: number;
  readonly destinationPort: number;
}

export function proxyHeaderV1(input: ProxyHeaderInput): Uint8Array {
  const client = input.client;
  if (client === undefined) return new TextEncoder().encode("PROXY UNKNOWN\r\n");
  const [protocol, destination] = client.family === 4 ? ["TCP4", "0.0.0.0"] : ["TCP6", "::"];
  const line = `PROXY ${protocol} ${client.text} ${destination} ${input.clientPort} ${input.destinationPort}\r\n`;
  return new TextEncoder().encode(line);
}

/** A v2 header with `tlvs` after the address block, in the order given. */
export function proxyHeaderV2(input: ProxyHeaderInput, tlvs: readonly ProxyTlv[] = []): Uint8Array {
  const client = input.client;
  const addressLength = client === undefined ? 0 : client.family === 4 ? 12 : 36;
  const tlvLength = tlvs.reduce((n, tlv) => n + 3 + tlv.value.length, 0);
  const bodyLength = addressLength + tlvLength;
  if (bodyLength > 0xffff) throw new RangeError(`PROXY v2 header body of ${bodyLength} bytes exceeds 65535`);
  const out = new Uint8Array(16 + bodyLength);
  const view = new DataView(out.buffer);
  out.set(V2_SIGNATURE, 0);
  out[12] = V2_PROXY_COMMAND;
  out[13] = client === undefined ? FAMILY_UNSPEC : client.family === 4 ? FAMILY_TCP4 : FAMILY_TCP6;
  view.setUint16(14, bodyLength);
  let at = 16;
  if (client !== undefined) {
    const size = client.bytes.length;
    out.set(client.bytes, at);
    // Destination address: left as zeros (the unspecified address of the same family).
    at += size * 2;
    view.setUint16(at, input.clientPort);
    view.setUint16(at + 2, input.destinationPort);
    at += 4;
  }
  for (const tlv of tlvs) {
    out[at] = tlv.type;
    view.setUint16(at + 1, tlv.value.length);
    out.set(tlv.value, at + 3);
    at += 3 + tlv.value.length;
  }
  return out;
}

/**
 * The header of a connection the edge opens for itself (health checks): v2 LOCAL, or v1
 * UNKNOWN — "use the connection's own endpoints", claiming no client.
 */
export function proxyHeaderLocal(version: 1 | 2): Uint8Array {
  if (version === 1) return new TextEncoder().encode("PROXY UNKNOWN\r\n");
  const out = new Uint8Array(16);
  out.set(V2_SIGNATURE, 0);
  out[12] = V2_LOCAL_COMMAND;
  out[13] = FAMILY_UNSPEC;
  return out;
}

/** PP2_TYPE_UNIQUE_ID carrying the session key, so the origin can tie connections to a session. */
export function uniqueIdTlv(sessionKey: string): ProxyTlv {
  const value = new TextEncoder().encode(sessionKey);
  if (value.length > MAX_UNIQUE_ID_BYTES) throw new RangeError(`unique id of ${value.length} bytes exceeds 128`);
  return { type: PP2_TYPE_UNIQUE_ID, value };
}

/** The destination port for a client URL: explicit, else the scheme's default. */
export function urlPort(url: URL): number {
  if (url.port !== "") return Number(url.port);
  return url.protocol === "https:" || url.protocol === "wss:" ? 443 : 80;
}
