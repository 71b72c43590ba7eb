// PROXY protocol v2: a 16-byte binary preamble
//   12-byte signature \r\n\r\n\0\r\nQUIT\n | ver_cmd | fam | len (u16 BE)
// then `len` bytes: the address block for the family, then TLVs (proxy-protocol.txt §2.2).
// TLVs are returned raw so later work (an HMAC TLV) can read them without touching the
// parser; a CRC32C TLV, when present, is verified because the spec asks receivers to.

import type { ProxyAddress, ProxyFamily, ProxyParseResult, ProxyTlv } from "./proxy-protocol.ts";

export const V2_SIGNATURE = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);
const PREAMBLE_LENGTH = 16;
/** Generous for addresses + a few TLVs (unique id ≤ 128 B, authority, an HMAC) yet small
 * enough that a hostile length field cannot make us hold 64 KiB per connection. */
export const DEFAULT_V2_MAX_LENGTH = 2048;

const PP2_TYPE_CRC32C = 0x03;

type FamilyInfo = { family: ProxyFamily; addressLength: number; ip: 4 | 6 | null };

export function parseProxyV2(buffer: Buffer, maxLength: number): ProxyParseResult {
  if (buffer.length < PREAMBLE_LENGTH) return { status: "incomplete" };
  const verCmd = buffer.readUInt8(12);
  const famByte = buffer.readUInt8(13);
  const bodyLength = buffer.readUInt16BE(14);
  const total = PREAMBLE_LENGTH + bodyLength;

  if (verCmd >> 4 !== 0x2) return invalid(`v2 header has version ${verCmd >> 4}, expected 2`);
  const commandBits = verCmd & 0x0f;
  if (commandBits !== 0x0 && commandBits !== 0x1) {
    return invalid(`v2 header has unknown command 0x${commandBits.toString(16)}`);
  }
  const command = commandBits === 0x1 ? "proxy" : "local";
  const info = familyInfo(famByte);
  if (info === null) return invalid(`v2 header has unknown family/protocol 0x${famByte.toString(16)}`);
  if (total > maxLength) return invalid(`v2 header of ${total} bytes exceeds the ${maxLength}-byte limit`);
  // Decide on the length field before waiting for the body, so a short body that claims a
  // huge length is refused now rather than after the timeout.
  if (command === "proxy" && bodyLength < info.addressLength) {
    return invalid(`v2 ${info.family} header needs ${info.addressLength} address bytes, has ${bodyLength}`);
  }
  if (buffer.length < total) return { status: "incomplete" };

  const header = buffer.subarray(0, total);
  // LOCAL may carry a block too short for its family: "the receiver must ... discard the
  // protocol block including the family", so there is nothing to parse after it.
  const tlvStart = PREAMBLE_LENGTH + info.addressLength;
  const tlvs = tlvStart <= total ? parseTlvs(header.subarray(tlvStart)) : [];
  if (typeof tlvs === "string") return invalid(tlvs);
  const crcError = verifyCrc32c(header, tlvStart, tlvs);
  if (crcError !== null) return invalid(crcError);

  const addresses = command === "proxy" ? readAddresses(header, info) : null;
  return {
    status: "complete",
    header: {
      version: 2,
      command,
      family: info.family,
      source: addresses?.source ?? null,
      destination: addresses?.destination ?? null,
      tlvs,
      length: total,
    },
  };
}

function familyInfo(byte: number): FamilyInfo | null {
  switch (byte) {
    case 0x00: return { family: "unknown", addressLength: 0, ip: null };
    case 0x11: return { family: "tcp4", addressLength: 12, ip: 4 };
    case 0x12: return { family: "udp4", addressLength: 12, ip: 4 };
    case 0x21: return { family: "tcp6", addressLength: 36, ip: 6 };
    case 0x22: return { family: "udp6", addressLength: 36, ip: 6 };
    case 0x31: return { family: "unix-stream", addressLength: 216, ip: null };
    case 0x32: return { family: "unix-dgram", addressLength: 216, ip: null };
    default: return null;
  }
}

function readAddresses(
  header: Buffer,
  info: FamilyInfo,
): { source: ProxyAddress; destination: ProxyAddress } | null {
  const at = PREAMBLE_LENGTH;
  if (info.ip === 4) {
    return {
      source: { address: formatIPv4(header, at), port: header.readUInt16BE(at + 8) },
      destination: { address: formatIPv4(header, at + 4), port: header.readUInt16BE(at + 10) },
    };
  }
  if (info.ip === 6) {
    return {
      source: { address: formatIPv6(header.subarray(at, at + 16)), port: header.readUInt16BE(at + 32) },
      destination: { address: formatIPv6(header.subarray(at + 16, at + 32)), port: header.readUInt16BE(at + 34) },
    };
  }
  return null; // UNSPEC and UNIX carry no IP address the origin could use.
}

function parseTlvs(bytes: Buffer): ProxyTlv[] | string {
  const tlvs: ProxyTlv[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (bytes.length - at < 3) return "v2 header ends inside a TLV type/length";
    const type = bytes.readUInt8(at);
    const length = bytes.readUInt16BE(at + 1);
    if (at + 3 + length > bytes.length) return `v2 TLV 0x${type.toString(16)} overruns the header`;
    tlvs.push({ type, value: Buffer.from(bytes.subarray(at + 3, at + 3 + length)) });
    at += 3 + length;
  }
  return tlvs;
}

function verifyCrc32c(header: Buffer, tlvStart: number, tlvs: ProxyTlv[]): string | null {
  const crcTlvs = tlvs.filter((tlv) => tlv.type === PP2_TYPE_CRC32C);
  if (crcTlvs.length === 0) return null;
  const expected = crcTlvs[0];
  if (crcTlvs.length > 1 || expected === undefined || expected.value.length !== 4) {
    return "v2 header has a malformed CRC32C TLV";
  }
  // The checksum covers the whole header with the checksum field itself zeroed.
  const copy = Buffer.from(header);
  let at = tlvStart;
  while (at < copy.length) {
    const type = copy.readUInt8(at);
    const length = copy.readUInt16BE(at + 1);
    if (type === PP2_TYPE_CRC32C) copy.fill(0, at + 3, at + 3 + length);
    at += 3 + length;
  }
  return crc32c(copy) === expected.value.readUInt32BE(0) ? null : "v2 header fails its CRC32C check";
}

let crcTable: Uint32Array | undefined;

/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78). Exported for tests and senders. */
export function crc32c(bytes: Uint8Array): number {
  crcTable ??= buildCrcTable();
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (crc >>> 8) ^ (crcTable[(crc ^ byte) & 0xff] ?? 0);
  return (crc ^ 0xffffffff) >>> 0;
}

function buildCrcTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

function formatIPv4(bytes: Buffer, at: number): string {
  return `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`;
}

/** RFC 5952 text form: lowercase, no leading zeros, longest zero run (≥2) as "::". */
export function formatIPv6(bytes: Uint8Array): string {
  const isMapped = bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (isMapped) return `::ffff:${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength && j - i >= 2) { bestStart = i; bestLength = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(":");
  const head = hex.slice(0, bestStart).join(":");
  const tail = hex.slice(bestStart + bestLength).join(":");
  return `${head}::${tail}`;
}

function invalid(reason: string): ProxyParseResult {
  return { status: "invalid", reason };
}
