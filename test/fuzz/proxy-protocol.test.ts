// Properties of the reference origin's PROXY protocol parsers (infra/origin/proxy-protocol*.ts)
// against the edge's own writer (relay/transport/tcp/proxy-header.ts) and
// arbitrary bytes. For any input: parseProxyHeader never throws; what the edge writes, the
// origin reads back exactly (addresses, ports, TLVs, length), however much of the request
// follows it; every strict prefix of a header is "incomplete", never a wrong answer; and a
// v2 header is complete only within the configured size limit.

import fc from "fast-check";
import { isIPv4 } from "node:net";
import { describe, expect, it } from "vitest";
import { parseIp } from "../../relay/transport/tcp/ip-address.ts";
import { proxyHeaderLocal, proxyHeaderV1, proxyHeaderV2 } from "../../relay/transport/tcp/proxy-header.ts";
import { detectProxySignature, maxHeaderLength, parseProxyHeader } from "../../infra/origin/proxy-protocol.ts";
import { V1_SIGNATURE } from "../../infra/origin/proxy-protocol-v1.ts";
import { DEFAULT_V2_MAX_LENGTH, V2_SIGNATURE } from "../../infra/origin/proxy-protocol-v2.ts";
import { fuzzParams } from "./support/fuzz.ts";

const client = fc.oneof(fc.ipV4(), fc.ipV6()).map((text) => parseIp(text)).filter((ip) => ip !== undefined);
const port = fc.integer({ min: 0, max: 65535 });
const tlv = fc.record({ type: fc.integer({ min: 0x05, max: 0xff }).filter((t) => t !== 0x03), value: fc.uint8Array({ maxLength: 60 }) });
const request = fc.constantFrom("", "GET /health HTTP/1.1\r\nHost: o\r\n\r\n", "\r\n\r\n").map((s) => Buffer.from(s));

/** How the origin writes an address: Node's canonical text. */
function canonical(bytes: Uint8Array, family: 4 | 6): string {
  if (family === 4) return [...bytes].join(".");
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return groups.join(":");
}

function sameAddress(parsed: string | undefined, bytes: Uint8Array, family: 4 | 6): boolean {
  if (parsed === undefined) return false;
  if (family === 4) return parsed === canonical(bytes, 4);
  // Compare as 16 bytes, whatever compression the parser chose.
  const ip = parseIp(parsed);
  return ip !== undefined && Buffer.from(ip.bytes).equals(Buffer.from(bytes));
}

describe("edge writer → origin parser", () => {
  it("v2: addresses, ports and TLVs read back exactly, with the request left after it", () => {
    fc.assert(
      fc.property(client, port, port, fc.array(tlv, { maxLength: 4 }), request, (ip, sport, dport, tlvs, rest) => {
        const header = proxyHeaderV2({ client: ip, clientPort: sport, destinationPort: dport }, tlvs);
        const parsed = parseProxyHeader(Buffer.concat([header, rest]), { maxV2Length: 65551 });
        expect(parsed.status).toBe("complete");
        if (parsed.status !== "complete") return;
        const h = parsed.header;
        expect(h).toMatchObject({ version: 2, command: "proxy", family: ip.family === 4 ? "tcp4" : "tcp6", length: header.length });
        expect(sameAddress(h.source?.address, ip.bytes, ip.family)).toBe(true);
        expect(h.source?.port).toBe(sport);
        expect(h.destination?.port).toBe(dport);
        expect(h.tlvs.map((t) => ({ type: t.type, value: [...t.value] }))).toEqual(tlvs.map((t) => ({ type: t.type, value: [...t.value] })));
      }),
      fuzzParams(3_000),
    );
  });

  it("v1: TCP4/TCP6 lines read back exactly; LOCAL/UNKNOWN headers name no client", () => {
    fc.assert(
      fc.property(client, port, port, request, (ip, sport, dport, rest) => {
        const header = proxyHeaderV1({ client: ip, clientPort: sport, destinationPort: dport });
        const parsed = parseProxyHeader(Buffer.concat([header, rest]));
        expect(parsed.status).toBe("complete");
        if (parsed.status !== "complete") return;
        expect(parsed.header).toMatchObject({ version: 1, family: isIPv4(ip.text) ? "tcp4" : "tcp6", length: header.length });
        expect(sameAddress(parsed.header.source?.address, ip.bytes, ip.family)).toBe(true);
        expect(parsed.header.source?.port).toBe(sport);
        for (const local of [proxyHeaderLocal(1), proxyHeaderLocal(2), proxyHeaderV1({ client: undefined, clientPort: 0, destinationPort: dport })]) {
          const p = parseProxyHeader(Buffer.concat([local, rest]));
          expect(p.status === "complete" && p.header.source === null && p.header.length === local.length).toBe(true);
        }
      }),
      fuzzParams(3_000),
    );
  });

  it("every strict prefix of a header is incomplete: never complete, never refused", () => {
    fc.assert(
      fc.property(client, port, fc.array(tlv, { maxLength: 3 }), fc.boolean(), fc.nat(), (ip, sport, tlvs, v2, at) => {
        const header = v2 ? proxyHeaderV2({ client: ip, clientPort: sport, destinationPort: 443 }, tlvs) : proxyHeaderV1({ client: ip, clientPort: sport, destinationPort: 443 });
        const prefix = Buffer.from(header.subarray(0, at % header.length));
        expect(parseProxyHeader(prefix, { maxV2Length: 65551 }).status).toBe("incomplete");
      }),
      fuzzParams(3_000),
    );
  });

  it("a v2 header is complete only within the size limit, refused from its preamble beyond it", () => {
    fc.assert(
      fc.property(client, fc.array(tlv, { maxLength: 6 }), fc.integer({ min: 108, max: 600 }), (ip, tlvs, max) => {
        const header = proxyHeaderV2({ client: ip, clientPort: 1, destinationPort: 443 }, tlvs);
        const whole = parseProxyHeader(Buffer.from(header), { maxV2Length: max });
        const preamble = parseProxyHeader(Buffer.from(header.subarray(0, 16)), { maxV2Length: max });
        if (header.length <= max) {
          expect(whole.status).toBe("complete");
          expect(preamble.status).toBe("incomplete");
        } else {
          expect(whole).toEqual({ status: "invalid", reason: `v2 header of ${header.length} bytes exceeds the ${max}-byte limit` });
          expect(preamble).toEqual(whole);
        }
        expect(maxHeaderLength({ maxV2Length: max })).toBe(Math.max(107, max));
      }),
      fuzzParams(2_000),
    );
  });
});

describe("arbitrary bytes", () => {
  const signatureThenNoise = fc
    .tuple(fc.constantFrom(V1_SIGNATURE, V2_SIGNATURE, Buffer.alloc(0)), fc.uint8Array({ maxLength: 200 }))
    .map(([sig, noise]) => Buffer.concat([sig, noise]));
  const v1ish = fc.string({ unit: "binary-ascii", maxLength: 120 }).map((s) => Buffer.from(`PROXY ${s}`, "latin1"));

  it("never throw; a complete header's length is within the input and its limit, and parsing is a pure function", () => {
    fc.assert(
      fc.property(fc.oneof(signatureThenNoise, v1ish, fc.uint8Array({ maxLength: 120 }).map((b) => Buffer.from(b))), fc.integer({ min: 108, max: 4096 }), (bytes, max) => {
        const parsed = parseProxyHeader(bytes, { maxV2Length: max });
        expect(["absent", "incomplete", "invalid", "complete"]).toContain(parsed.status);
        expect(parseProxyHeader(Buffer.from(bytes), { maxV2Length: max })).toEqual(parsed);
        const signature = detectProxySignature(bytes);
        if (signature === "absent") expect(parsed.status).toBe("absent");
        if (parsed.status === "complete") {
          expect(parsed.header.length).toBeLessThanOrEqual(bytes.length);
          expect(parsed.header.length).toBeLessThanOrEqual(parsed.header.version === 1 ? 107 : max);
        }
        if (parsed.status === "invalid") expect(parsed.reason.length).toBeGreaterThan(0);
      }),
      fuzzParams(10_000),
    );
  });

  it("the default v2 limit holds without options", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), (bodyLength) => {
        const preamble = Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x11, bodyLength >> 8, bodyLength & 0xff])]);
        const parsed = parseProxyHeader(preamble);
        if (16 + bodyLength > DEFAULT_V2_MAX_LENGTH) expect(parsed.status).toBe("invalid");
        else expect(parsed.status === "incomplete" || parsed.status === "invalid").toBe(true);
      }),
      fuzzParams(3_000),
    );
  });
});
