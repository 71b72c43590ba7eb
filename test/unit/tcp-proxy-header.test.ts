/**
 * The PROXY headers the edge writes, byte for byte against proxy-protocol.txt, and the
 * authentication TLV checked with an HMAC computed here independently (Web Crypto verify).
 */
import { describe, expect, it } from "vitest";
import { clientAddress, proxyHeaderFor } from "../../relay/transport/tcp-origin-connection.ts";
import { parseIp } from "../../relay/transport/tcp/ip-address.ts";
import { PP2_TYPE_PUSH_EDGE_AUTH } from "../../relay/transport/tcp/proxy-auth.ts";
import { proxyHeaderLocal, proxyHeaderV2, uniqueIdTlv } from "../../relay/transport/tcp/proxy-header.ts";
import type { OriginLink } from "../../relay/transport/origin-link.ts";

const SIGNATURE = "0d0a0d0a000d0a515549540a";
const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
const KEY = "a2V5LWtleS1rZXkta2V5LWtleS1rZXkta2V5LWtleS1rZXk"; // 35 bytes, base64url

function link(version: 1 | 2, authKid?: string): OriginLink {
  return {
    url: "http://origin.test:8080",
    transport: { kind: "tcp", proxy: { version, ...(authKid === undefined ? {} : { authKid }) } },
    sessionKey: "sk-0123456789abcdef",
    proxyAuthKeys: JSON.stringify({ k1: KEY }),
  };
}

const request = (xff: string | undefined, url = "https://push.example.com/session") =>
  new Request(url, { headers: xff === undefined ? {} : { "x-forwarded-for": xff } });

describe("IP address parsing", () => {
  it("accepts IPv4 and IPv6 text forms and refuses anything else", () => {
    expect(hex(parseIp("203.0.113.7")?.bytes ?? new Uint8Array())).toBe("cb007107");
    expect(hex(parseIp("2001:db8::1")?.bytes ?? new Uint8Array())).toBe("20010db8000000000000000000000001");
    expect(hex(parseIp("::ffff:192.0.2.1")?.bytes ?? new Uint8Array())).toBe("00000000000000000000ffffc0000201");
    expect(hex(parseIp("::")?.bytes ?? new Uint8Array(1))).toBe("0".repeat(32));
    for (const bad of ["", "1.2.3", "256.1.1.1", "01.2.3.4", "1::2::3", "2001:db8::1%eth0", "unknown", "1.2.3.4:80", "[::1]"]) {
      expect(parseIp(bad), bad).toBeUndefined();
    }
  });

  it("takes the client address from the edge's X-Forwarded-For only, first hop", () => {
    expect(clientAddress(request("198.51.100.2"))?.text).toBe("198.51.100.2");
    expect(clientAddress(request("198.51.100.2, 10.0.0.1"))?.text).toBe("198.51.100.2");
    expect(clientAddress(request("not-an-ip"))).toBeUndefined();
    expect(clientAddress(request(undefined))).toBeUndefined();
  });
});

describe("PROXY v1", () => {
  it("writes TCP4, TCP6 and UNKNOWN lines; source port 0, destination the client's URL port", async () => {
    const text = async (xff: string | undefined, url?: string) =>
      new TextDecoder().decode(await proxyHeaderFor(request(xff, url), link(1), { version: 1 }));
    expect(await text("198.51.100.2")).toBe("PROXY TCP4 198.51.100.2 0.0.0.0 0 443\r\n");
    expect(await text("2001:db8::7", "http://push.example.com:8080/x")).toBe("PROXY TCP6 2001:db8::7 :: 0 8080\r\n");
    expect(await text(undefined)).toBe("PROXY UNKNOWN\r\n");
    expect(new TextDecoder().decode(proxyHeaderLocal(1))).toBe("PROXY UNKNOWN\r\n");
  });
});

describe("PROXY v2", () => {
  it("lays out an IPv4 header with the unique id TLV", () => {
    const header = proxyHeaderV2(
      { client: parseIp("198.51.100.2"), clientPort: 0, destinationPort: 443 },
      [uniqueIdTlv("abc")],
    );
    expect(hex(header)).toBe(
      `${SIGNATURE}21` + "11" + "0012" + "c6336402" + "00000000" + "0000" + "01bb" + "05" + "0003" + hex(new TextEncoder().encode("abc")),
    );
  });

  it("lays out IPv6, UNSPEC (unknown client) and LOCAL headers", () => {
    const v6 = proxyHeaderV2({ client: parseIp("2001:db8::1"), clientPort: 0, destinationPort: 80 });
    expect(hex(v6.subarray(12, 16))).toBe("21210024");
    expect(hex(v6.subarray(16, 32))).toBe("20010db8000000000000000000000001");
    expect(hex(v6.subarray(32, 52))).toBe("0".repeat(32) + "0000" + "0050");
    expect(hex(proxyHeaderV2({ client: undefined, clientPort: 0, destinationPort: 443 }))).toBe(`${SIGNATURE}21000000`);
    expect(hex(proxyHeaderLocal(2))).toBe(`${SIGNATURE}20000000`);
  });

  it("signs the header: the auth TLV is last, names the kid, and its MAC covers every other byte", async () => {
    const before = Math.floor(Date.now() / 1000);
    const header = await proxyHeaderFor(request("198.51.100.2"), link(2, "k1"), { version: 2, authKid: "k1" });
    const tlvStart = 16 + 12 + 3 + "sk-0123456789abcdef".length;
    expect(header[tlvStart]).toBe(PP2_TYPE_PUSH_EDGE_AUTH);
    const value = header.subarray(tlvStart + 3);
    expect(new DataView(header.buffer).getUint16(tlvStart + 1)).toBe(value.length);
    expect(value[0]).toBe(1);
    const issuedAt = new DataView(value.buffer, value.byteOffset).getUint32(1);
    expect(issuedAt).toBeGreaterThanOrEqual(before);
    expect(value[5]).toBe(2);
    expect(new TextDecoder().decode(value.subarray(6, 8))).toBe("k1");
    const mac = value.slice(8);
    expect(mac.length).toBe(32);
    // The length field counts the whole TLV block.
    expect(new DataView(header.buffer).getUint16(14)).toBe(header.length - 16);

    const keyBytes = Uint8Array.from(atob(KEY.replace(/-/g, "+").replace(/_/g, "/") + "="), (c) => c.charCodeAt(0));
    const key = await crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
    const zeroed = new Uint8Array(header);
    zeroed.fill(0, header.length - 32);
    expect(await crypto.subtle.verify("HMAC", key, mac, zeroed)).toBe(true);
    // Any other byte changed (here: the client address) breaks the MAC.
    zeroed[16] = (zeroed[16] ?? 0) ^ 1;
    expect(await crypto.subtle.verify("HMAC", key, mac, zeroed)).toBe(false);
  });

  it("refuses to sign with a kid PROXY_AUTH_KEYS does not hold", async () => {
    await expect(proxyHeaderFor(request("198.51.100.2"), link(2, "gone"), { version: 2, authKid: "gone" })).rejects.toThrow(/no key "gone"/);
  });
});
