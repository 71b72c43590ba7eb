// Unit tests of the pure PROXY protocol parser (no sockets): v1 and v2 shapes, TLVs,
// header split at every byte, and the garbage a hostile or broken sender can produce.

import { describe, expect, it } from "vitest";
import {
  detectProxySignature,
  parseProxyHeader,
  PP2_TYPE_AUTHORITY,
  PP2_TYPE_CRC32C,
  PP2_TYPE_UNIQUE_ID,
  proxyUniqueId,
  type ProxyParseResult,
} from "../../infra/origin/proxy-protocol.ts";
import { crc32c, formatIPv6 } from "../../infra/origin/proxy-protocol-v2.ts";
import { proxyV1, proxyV2 } from "./support/proxy-headers.ts";

function complete(result: ProxyParseResult) {
  if (result.status !== "complete") throw new Error(`expected a complete header, got ${JSON.stringify(result)}`);
  return result.header;
}

function invalidReason(result: ProxyParseResult): string {
  if (result.status !== "invalid") throw new Error(`expected invalid, got ${JSON.stringify(result)}`);
  return result.reason;
}

describe("signature detection", () => {
  it("tells HTTP, partial signatures and both versions apart", () => {
    expect(detectProxySignature(Buffer.from("GET / HTTP/1.1\r\n"))).toBe("absent");
    expect(detectProxySignature(Buffer.from("POST /session"))).toBe("absent");
    expect(detectProxySignature(Buffer.from("PRO"))).toBe("partial");
    expect(detectProxySignature(Buffer.from("PROPFIND / HTTP/1.1"))).toBe("absent");
    expect(detectProxySignature(Buffer.from("PROXY "))).toBe("v1");
    expect(detectProxySignature(Buffer.from("\r\n\r\n\0"))).toBe("partial");
    expect(detectProxySignature(proxyV2())).toBe("v2");
    expect(detectProxySignature(Buffer.alloc(0))).toBe("partial");
  });
});

describe("v1", () => {
  it("parses TCP4 and reports how many bytes it used", () => {
    const text = proxyV1("TCP4", "203.0.113.7", "192.0.2.10", 51234, 443);
    const header = complete(parseProxyHeader(Buffer.from(`${text}GET / HTTP/1.1\r\n`)));
    expect(header).toMatchObject({
      version: 1,
      command: "proxy",
      family: "tcp4",
      source: { address: "203.0.113.7", port: 51234 },
      destination: { address: "192.0.2.10", port: 443 },
      tlvs: [],
    });
    expect(header.length).toBe(text.length);
  });

  it("parses TCP6 and UNKNOWN (with or without trailing addresses)", () => {
    const v6 = complete(parseProxyHeader(Buffer.from(proxyV1("TCP6", "2001:db8::7", "2001:db8::1", 1, 65535))));
    expect(v6.source).toEqual({ address: "2001:db8::7", port: 1 });
    expect(v6.family).toBe("tcp6");
    expect(complete(parseProxyHeader(Buffer.from("PROXY UNKNOWN\r\n")))).toMatchObject({ family: "unknown", source: null });
    const unknownWithAddresses = "PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n";
    expect(complete(parseProxyHeader(Buffer.from(unknownWithAddresses))).length).toBe(unknownWithAddresses.length);
  });

  it("is incomplete at every split point before the CRLF, complete after", () => {
    const text = proxyV1("TCP4", "203.0.113.7", "192.0.2.10", 51234, 443);
    for (let cut = 1; cut < text.length; cut++) {
      expect(parseProxyHeader(Buffer.from(text.slice(0, cut))).status, `cut at ${cut}`).toBe("incomplete");
    }
    expect(parseProxyHeader(Buffer.from(text)).status).toBe("complete");
  });

  it.each([
    ["wrong protocol", "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n"],
    ["IPv6 address in TCP4", "PROXY TCP4 2001:db8::1 5.6.7.8 1 2\r\n"],
    ["IPv4 address in TCP6", "PROXY TCP6 1.2.3.4 2001:db8::1 1 2\r\n"],
    ["bad octet", "PROXY TCP4 1.2.3.400 5.6.7.8 1 2\r\n"],
    ["port out of range", "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"],
    ["port with leading zero", "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n"],
    ["negative port", "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n"],
    ["missing field", "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"],
    ["extra field", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"],
    ["double space", "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n"],
    ["lone LF", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"],
    ["NUL byte", "PROXY TCP4 1.2.3.4\0 5.6.7.8 1 2\r\n"],
  ])("rejects %s", (_name, text) => {
    expect(invalidReason(parseProxyHeader(Buffer.from(text, "latin1")))).toMatch(/v1/);
  });

  it("rejects a line longer than 107 bytes even before a CRLF arrives", () => {
    const long = `PROXY UNKNOWN ${"x".repeat(120)}`;
    expect(invalidReason(parseProxyHeader(Buffer.from(long)))).toMatch(/107/);
    // 107 bytes exactly, CRLF included, is the largest legal header.
    const max = `PROXY UNKNOWN ${"y".repeat(107 - 16)}\r\n`;
    expect(max.length).toBe(107);
    expect(parseProxyHeader(Buffer.from(max)).status).toBe("complete");
    expect(parseProxyHeader(Buffer.from(`PROXY UNKNOWN ${"y".repeat(107 - 15)}\r\n`)).status).toBe("invalid");
  });
});

describe("v2", () => {
  it("parses PROXY over TCP4 with TLVs, including the unique id", () => {
    const uniqueId = Buffer.from("0123456789abcdef", "hex");
    const bytes = proxyV2({
      src: "198.51.100.9",
      dst: "192.0.2.1",
      sport: 55555,
      dport: 8443,
      tlvs: [
        { type: PP2_TYPE_AUTHORITY, value: Buffer.from("push.example.com") },
        { type: PP2_TYPE_UNIQUE_ID, value: uniqueId },
        { type: 0xee, value: Buffer.from([1, 2, 3]) },
      ],
    });
    const header = complete(parseProxyHeader(Buffer.concat([bytes, Buffer.from("GET /")])));
    expect(header).toMatchObject({
      version: 2,
      command: "proxy",
      family: "tcp4",
      source: { address: "198.51.100.9", port: 55555 },
      destination: { address: "192.0.2.1", port: 8443 },
      length: bytes.length,
    });
    expect(header.tlvs.map((tlv) => tlv.type)).toEqual([PP2_TYPE_AUTHORITY, PP2_TYPE_UNIQUE_ID, 0xee]);
    expect(header.tlvs[0]?.value.toString()).toBe("push.example.com");
    expect(proxyUniqueId(header)).toBe("0123456789abcdef");
  });

  it("parses TCP6 and prints addresses in RFC 5952 form", () => {
    const header = complete(parseProxyHeader(proxyV2({ src: "2001:db8:0:0:0:0:0:7", dst: "2001:db8::1", sport: 1, dport: 2 })));
    expect(header.family).toBe("tcp6");
    expect(header.source).toEqual({ address: "2001:db8::7", port: 1 });
    expect(formatIPv6(Buffer.from("00000000000000000000ffffc0000201", "hex"))).toBe("::ffff:192.0.2.1");
    expect(formatIPv6(Buffer.alloc(16))).toBe("::");
    expect(formatIPv6(Buffer.from("20010db8000100000001000000000001", "hex"))).toBe("2001:db8:1:0:1::1");
  });

  it("accepts LOCAL without addresses and UNSPEC as having no source", () => {
    expect(complete(parseProxyHeader(proxyV2({ command: "local", family: 0x00 })))).toMatchObject({
      command: "local",
      source: null,
    });
    // LOCAL with a TCP4 block: addresses present on the wire but not to be used.
    expect(complete(parseProxyHeader(proxyV2({ command: "local" }))).source).toBeNull();
    expect(complete(parseProxyHeader(proxyV2({ family: 0x00 })))).toMatchObject({ family: "unknown", source: null });
  });

  it("is incomplete at every split point, complete at the end", () => {
    const bytes = proxyV2({ tlvs: [{ type: PP2_TYPE_UNIQUE_ID, value: Buffer.from("abc") }] });
    for (let cut = 1; cut < bytes.length; cut++) {
      expect(parseProxyHeader(bytes.subarray(0, cut)).status, `cut at ${cut}`).toBe("incomplete");
    }
    expect(parseProxyHeader(bytes).status).toBe("complete");
  });

  it("verifies a CRC32C TLV", () => {
    // Known answer from RFC 3720 (iSCSI): CRC32C of 32 zero bytes.
    expect(crc32c(Buffer.alloc(32))).toBe(0x8a9136aa);
    const withZeroCrc = proxyV2({ tlvs: [{ type: PP2_TYPE_CRC32C, value: Buffer.alloc(4) }] });
    const good = Buffer.from(withZeroCrc);
    good.writeUInt32BE(crc32c(withZeroCrc), good.length - 4);
    expect(parseProxyHeader(good).status).toBe("complete");
    const bad = Buffer.from(good);
    bad.writeUInt32BE((crc32c(withZeroCrc) ^ 1) >>> 0, bad.length - 4);
    expect(invalidReason(parseProxyHeader(bad))).toMatch(/CRC32C/);
  });

  it("rejects bad version, command, family and lengths", () => {
    const good = proxyV2();
    const withByte = (at: number, value: number) => {
      const copy = Buffer.from(good);
      copy.writeUInt8(value, at);
      return copy;
    };
    expect(invalidReason(parseProxyHeader(withByte(12, 0x11)))).toMatch(/version/);
    expect(invalidReason(parseProxyHeader(withByte(12, 0x22)))).toMatch(/command/);
    expect(invalidReason(parseProxyHeader(withByte(13, 0x41)))).toMatch(/family/);
    const short = Buffer.from(good);
    short.writeUInt16BE(4, 14); // PROXY over TCP4 needs 12 address bytes
    expect(invalidReason(parseProxyHeader(short))).toMatch(/address bytes/);
    const huge = Buffer.from(good);
    huge.writeUInt16BE(60000, 14);
    expect(invalidReason(parseProxyHeader(huge))).toMatch(/exceeds/);
    expect(parseProxyHeader(huge, { maxV2Length: 70_000 }).status).toBe("incomplete");
  });

  it("rejects TLVs that overrun the header or stop mid-way", () => {
    const overrun = proxyV2({ tlvs: [{ type: 0xee, value: Buffer.from("abcd") }] });
    overrun.writeUInt16BE(200, overrun.length - 6); // TLV claims 200 bytes, has 4
    expect(invalidReason(parseProxyHeader(overrun))).toMatch(/overruns/);
    const stub = proxyV2({ tlvs: [] });
    const withStub = Buffer.concat([stub, Buffer.from([0xee, 0x00])]);
    withStub.writeUInt16BE(stub.readUInt16BE(14) + 2, 14);
    expect(invalidReason(parseProxyHeader(withStub))).toMatch(/inside a TLV/);
  });

  it("never throws on random bytes after a valid signature", () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed & 0xff;
    };
    for (let i = 0; i < 2000; i++) {
      const tail = Buffer.from(Array.from({ length: 4 + (i % 80) }, random));
      const bytes = Buffer.concat([i % 2 === 0 ? Buffer.from("0d0a0d0a000d0a515549540a", "hex") : Buffer.from("PROXY "), tail]);
      expect(["incomplete", "invalid", "complete"]).toContain(parseProxyHeader(bytes).status);
    }
  });
});
