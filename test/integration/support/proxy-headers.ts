// PROXY protocol v1/v2 headers built by hand from proxy-protocol.txt — written
// independently of the origin's parser, so the tests check one against the other.

import { isIPv4 } from "node:net";


export function proxyV1(protocol: "TCP4" | "TCP6", src: string, dst: string, sport: number, dport: number): string {
  return `PROXY ${protocol} ${src} ${dst} ${sport} ${dport}\r\n`;
}

export const V2_SIGNATURE = Buffer.from("0d0a0d0a000d0a515549540a", "hex");

export type V2Options = {
  command?: "local" | "proxy";
  src?: string;
  dst?: string;
  sport?: number;
  dport?: number;
  tlvs?: ReadonlyArray<{ type: number; value: Uint8Array }>;
  /** Overrides the family/protocol byte (0x11 TCP4, 0x21 TCP6, 0x00 UNSPEC). */
  family?: number;
};

export function proxyV2(options: V2Options = {}): Buffer {
  const command = options.command === "local" ? 0x20 : 0x21;
  const src = options.src ?? "192.0.2.1";
  const dst = options.dst ?? "192.0.2.2";
  const v4 = isIPv4(src);
  const family = options.family ?? (v4 ? 0x11 : 0x21);
  let addresses: Buffer;
  if (family === 0x00) {
    addresses = Buffer.alloc(0);
  } else {
    const ports = Buffer.alloc(4);
    ports.writeUInt16BE(options.sport ?? 40000, 0);
    ports.writeUInt16BE(options.dport ?? 443, 2);
    addresses = Buffer.concat(v4 ? [ipv4Bytes(src), ipv4Bytes(dst), ports] : [ipv6Bytes(src), ipv6Bytes(dst), ports]);
  }
  const tlvs = (options.tlvs ?? []).map(({ type, value }) => {
    const head = Buffer.alloc(3);
    head.writeUInt8(type, 0);
    head.writeUInt16BE(value.length, 1);
    return Buffer.concat([head, value]);
  });
  const body = Buffer.concat([addresses, ...tlvs]);
  const preamble = Buffer.alloc(4);
  preamble.writeUInt8(command, 0);
  preamble.writeUInt8(family, 1);
  preamble.writeUInt16BE(body.length, 2);
  return Buffer.concat([V2_SIGNATURE, preamble, body]);
}

function ipv4Bytes(address: string): Buffer {
  return Buffer.from(address.split(".").map(Number));
}

/** Expands "2001:db8::1" to 16 bytes (enough for the addresses the tests use). */
function ipv6Bytes(address: string): Buffer {
  const [head = "", tail = ""] = address.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === "" ? [] : tail.split(":");
  const zeros = new Array<string>(8 - headGroups.length - tailGroups.length).fill("0");
  const groups = address.includes("::") ? [...headGroups, ...zeros, ...tailGroups] : headGroups;
  const bytes = Buffer.alloc(16);
  groups.forEach((group, index) => bytes.writeUInt16BE(parseInt(group, 16), index * 2));
  return bytes;
}
