/**
 * The PROXY authentication TLV: the reference origin honours a header that names a client
 * only when it carries a valid TLV (signed here with node:crypto, independently of the
 * edge's Web Crypto code); and an edge signing with a key the origin does not hold gets
 * no session through — the client is told the origin is unreachable.
 */
import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOrigin, type ProxyRejection, type RunningOrigin } from "../../infra/origin/origin.ts";
import { AUTH_KEYS, AUTH_KID, fromClient, loggedRequests, proxyStack } from "./support/edge-proxy.ts";
import { proxyV1, proxyV2 } from "./support/proxy-headers.ts";
import { healthRequest, rawExchange, rawJsonBody, rawStatus } from "./support/raw-tcp.ts";

const KEY = Buffer.from(AUTH_KEYS[AUTH_KID] ?? "", "base64url");

/** A v2 header whose last TLV is the auth TLV: version 1, issued-at, kid, HMAC over the header. */
function signedV2(options: { src?: string; kid?: string; key?: Buffer; issuedAt?: number; tamper?: (h: Buffer) => void }): Buffer {
  const kid = Buffer.from(options.kid ?? AUTH_KID);
  const value = Buffer.alloc(6 + kid.length + 32);
  value.writeUInt8(1, 0);
  value.writeUInt32BE(options.issuedAt ?? Math.floor(Date.now() / 1000), 1);
  value.writeUInt8(kid.length, 5);
  kid.copy(value, 6);
  const header = proxyV2({
    src: options.src ?? "203.0.113.50",
    tlvs: [
      { type: 0x05, value: Buffer.from("session-key") },
      { type: 0xe0, value },
    ],
  });
  const mac = createHmac("sha256", options.key ?? KEY).update(header).digest();
  mac.copy(header, header.length - 32);
  options.tamper?.(header);
  return header;
}

describe("origin: PROXY headers must be signed when a key file is configured", () => {
  let origin: RunningOrigin;
  let port = 0;
  let openPort = 0;
  const rejections: ProxyRejection[] = [];

  beforeAll(async () => {
    origin = await startOrigin({
      id: "pp-auth",
      listeners: [
        { kind: "combined", host: "127.0.0.1", port: 0, proxy: "require" },
        { kind: "combined", host: "127.0.0.1", port: 0, proxy: "require", proxyAuth: "off" },
      ],
      proxyAuthKeys: new Map([[AUTH_KID, KEY]]),
      intervalMs: 0,
      onConnectionRejected: (r) => rejections.push(r),
    });
    port = origin.listeners[0]?.port ?? 0;
    openPort = origin.listeners[1]?.port ?? 0;
  });
  afterAll(async () => {
    await origin?.close();
  });

  async function cut(header: Buffer | string): Promise<string> {
    const before = rejections.length;
    const exchange = await rawExchange(port, [Buffer.concat([Buffer.from(header), Buffer.from(healthRequest())])]);
    expect(exchange).toEqual({ response: "", closed: true });
    return rejections.slice(before).map((r) => r.reason).join("; ");
  }

  it("honours a correctly signed header", async () => {
    const exchange = await rawExchange(port, [Buffer.concat([signedV2({}), Buffer.from(healthRequest())])]);
    expect(rawStatus(exchange.response)).toBe(200);
    expect(rawJsonBody(exchange.response)).toMatchObject({ client: "203.0.113.50", via: "proxy" });
  });

  it("cuts unsigned, wrongly keyed, unknown-kid, tampered and stale headers", async () => {
    expect(await cut(proxyV2({ src: "203.0.113.50" }))).toMatch(/authentication failed: no authentication TLV/);
    expect(await cut(signedV2({ key: Buffer.alloc(32, 9) }))).toMatch(/bad MAC/);
    expect(await cut(signedV2({ kid: "someone-else" }))).toMatch(/unknown key id/);
    // The client address rewritten after signing (byte 16 is the source's first octet).
    expect(await cut(signedV2({ tamper: (h) => h.writeUInt8(198, 16) }))).toMatch(/bad MAC/);
    expect(await cut(signedV2({ issuedAt: Math.floor(Date.now() / 1000) - 3600 }))).toMatch(/beyond 60 s/);
    // v1 has nowhere to carry the TLV: a v1 header naming a client cannot pass.
    expect(await cut(proxyV1("TCP4", "203.0.113.50", "192.0.2.1", 1234, 443))).toMatch(/no authentication TLV/);
  });

  it("lets a header that names no client (LOCAL: health checks) through unsigned", async () => {
    const exchange = await rawExchange(port, [Buffer.concat([proxyV2({ command: "local", family: 0x00 }), Buffer.from(healthRequest())])]);
    expect(rawStatus(exchange.response)).toBe(200);
    expect(rawJsonBody(exchange.response)).toMatchObject({ client: "127.0.0.1", via: "socket" });
  });

  it("does not check on a listener with proxy-auth=off", async () => {
    const exchange = await rawExchange(openPort, [Buffer.concat([proxyV2({ src: "203.0.113.51" }), Buffer.from(healthRequest())])]);
    expect(rawJsonBody(exchange.response)).toMatchObject({ client: "203.0.113.51", via: "proxy" });
  });
});

describe("edge signing with a key the origin does not hold", () => {
  it("gets no request to the origin; the client is told the origin is unreachable", async () => {
    const ps = await proxyStack({ version: 2, auth: true, edgeKeys: { [AUTH_KID]: Buffer.alloc(32, 1).toString("base64url") } });
    try {
      const res = await fromClient(`${ps.edgeUrl}/session`, { method: "POST" });
      expect(res.status).toBe(502);
      expect(res.body).toMatchObject({ error: "origin_unreachable" });
      expect(await loggedRequests(ps.inspectUrls[0] ?? "")).toEqual([]);
    } finally {
      await ps.close();
    }
  });
});
