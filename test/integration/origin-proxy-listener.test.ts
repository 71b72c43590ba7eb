// PROXY protocol on real sockets: trusted headers set the client address, untrusted ones
// are rejected or ignored per config, listener modes require/accept/refuse, and every kind
// of garbage closes only its own connection while the origin keeps serving.
//
// "Untrusted" is simulated by trusting an address no test traffic comes from
// (10.255.255.1): it only ever appears as a config value.

import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOrigin, type ProxyRejection, type RunningOrigin, type StartOriginOptions } from "../../infra/origin/origin.ts";
import { PP2_TYPE_UNIQUE_ID } from "../../infra/origin/proxy-protocol.ts";
import { proxyV1, proxyV2 } from "./support/proxy-headers.ts";
import { healthRequest, rawExchange, rawJsonBody, rawStatus } from "./support/raw-tcp.ts";
import { WAIT_MS, withTimeout } from "./support/wait.ts";

const UNTRUSTED_ONLY = ["10.255.255.1"];

type Harness = { origin: RunningOrigin; port: number; rejections: ProxyRejection[] };

async function start(id: string, options: Partial<StartOriginOptions> = {}): Promise<Harness> {
  const rejections: ProxyRejection[] = [];
  const origin = await startOrigin({
    id,
    listeners: [{ kind: "combined", host: "127.0.0.1", port: 0 }],
    intervalMs: 0,
    ...options,
    onConnectionRejected: (rejection) => rejections.push(rejection),
  });
  const port = origin.listeners[0]?.port;
  if (port === undefined) throw new Error("no listener");
  return { origin, port, rejections };
}

async function health(port: number, chunks: ReadonlyArray<string | Uint8Array>, gapMs = 0) {
  const exchange = await rawExchange(port, chunks, { gapMs });
  expect(rawStatus(exchange.response), exchange.response).toBe(200);
  expect(exchange.response).toMatch(/X-Origin-Id: /);
  return rawJsonBody(exchange.response) as { client: string; via: string };
}

/** The connection must end without a single byte of HTTP response. */
async function expectCut(port: number, chunks: ReadonlyArray<string | Uint8Array>, gapMs = 0): Promise<void> {
  const exchange = await rawExchange(port, chunks, { gapMs });
  expect(exchange.closed).toBe(true);
  expect(exchange.response).toBe("");
}

describe("PROXY headers from a trusted source (accept mode)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await start("pp-trusted");
  });
  afterAll(async () => {
    await h.origin.close();
  });

  it("v1 TCP4 gives the claimed client address", async () => {
    const body = await health(h.port, [proxyV1("TCP4", "203.0.113.7", "192.0.2.10", 51234, 443) + healthRequest()]);
    expect(body).toMatchObject({ client: "203.0.113.7", via: "proxy" });
  });

  it("v1 TCP6 gives the claimed client address", async () => {
    const body = await health(h.port, [proxyV1("TCP6", "2001:db8::7", "2001:db8::1", 51234, 443) + healthRequest()]);
    expect(body).toMatchObject({ client: "2001:db8::7", via: "proxy" });
  });

  it("v2 IPv4 with a unique-id TLV gives the address, and the TLV shows in the request log", async () => {
    const header = proxyV2({
      src: "198.51.100.20",
      dst: "192.0.2.1",
      tlvs: [{ type: PP2_TYPE_UNIQUE_ID, value: Buffer.from("c0ffee", "hex") }],
    });
    expect(await health(h.port, [Buffer.concat([header, Buffer.from(healthRequest())])])).toMatchObject({
      client: "198.51.100.20",
      via: "proxy",
    });
    const created = await rawExchange(h.port, [
      Buffer.concat([header, Buffer.from("POST /session HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")]),
    ]);
    expect(rawStatus(created.response)).toBe(201);
    const body = rawJsonBody(created.response) as { id: string; client: string };
    expect(body.client).toBe("198.51.100.20");
    const entry = h.origin.requests().find((e) => e.session === body.id);
    expect(entry?.proxy).toEqual({ version: 2, command: "proxy", uniqueId: "c0ffee", tlvTypes: [PP2_TYPE_UNIQUE_ID] });
    expect(entry).toMatchObject({ client: "198.51.100.20", via: "proxy", peer: "127.0.0.1" });
  });

  it("v2 IPv6 gives the claimed client address", async () => {
    const header = proxyV2({ src: "2001:db8:1::42", dst: "2001:db8::1", sport: 1234, dport: 443 });
    expect(await health(h.port, [Buffer.concat([header, Buffer.from(healthRequest())])])).toMatchObject({
      client: "2001:db8:1::42",
      via: "proxy",
    });
  });

  it("v2 LOCAL (a proxy's own health check) uses the socket address", async () => {
    const header = proxyV2({ command: "local", family: 0x00 });
    expect(await health(h.port, [Buffer.concat([header, Buffer.from(healthRequest())])])).toMatchObject({
      client: "127.0.0.1",
      via: "socket",
    });
  });

  it("handles a header split over many TCP chunks and request bytes sharing the header's last chunk", async () => {
    const v1 = proxyV1("TCP4", "203.0.113.8", "192.0.2.10", 1000, 443);
    const request = healthRequest();
    const v1Body = await health(h.port, [v1.slice(0, 3), v1.slice(3, 20), v1.slice(20) + request.slice(0, 9), request.slice(9)], 20);
    expect(v1Body).toMatchObject({ client: "203.0.113.8", via: "proxy" });

    const v2 = proxyV2({ src: "203.0.113.9" });
    const v2Body = await health(
      h.port,
      [v2.subarray(0, 5), v2.subarray(5, 14), Buffer.concat([v2.subarray(14), Buffer.from(request.slice(0, 4))]), request.slice(4)],
      20,
    );
    expect(v2Body).toMatchObject({ client: "203.0.113.9", via: "proxy" });
  });

  it("lets plain HTTP through, even when its first byte alone looks like a PROXY signature", async () => {
    expect(await health(h.port, [healthRequest()])).toMatchObject({ client: "127.0.0.1", via: "socket" });
    const created = await rawExchange(h.port, ["P", "OST /session HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"], {
      gapMs: 20,
    });
    expect(rawStatus(created.response)).toBe(201);
  });

  it("keeps the PROXY address for every request on a keep-alive connection", async () => {
    const twoRequests =
      proxyV1("TCP4", "203.0.113.50", "192.0.2.10", 1, 2) +
      "GET /health HTTP/1.1\r\nHost: x\r\n\r\n" +
      healthRequest();
    const exchange = await rawExchange(h.port, [twoRequests]);
    const clients = [...exchange.response.matchAll(/"client":"([^"]+)"/g)].map((m) => m[1]);
    expect(clients).toEqual(["203.0.113.50", "203.0.113.50"]);
  });
});

describe("PROXY headers from an untrusted source", () => {
  it("rejects (closes) by default, while plain requests still work", async () => {
    const h = await start("pp-untrusted-reject", { proxyTrusted: UNTRUSTED_ONLY });
    try {
      await expectCut(h.port, [proxyV1("TCP4", "203.0.113.7", "192.0.2.10", 1, 2) + healthRequest()]);
      await expectCut(h.port, [Buffer.concat([proxyV2({ src: "203.0.113.7" }), Buffer.from(healthRequest())])]);
      expect(h.rejections.map((r) => r.reason)).toEqual([
        "PROXY header from an untrusted source",
        "PROXY header from an untrusted source",
      ]);
      expect(await health(h.port, [healthRequest()])).toMatchObject({ client: "127.0.0.1", via: "socket" });
    } finally {
      await h.origin.close();
    }
  });

  it("strips the header and uses the socket address when configured to ignore", async () => {
    const h = await start("pp-untrusted-ignore", { proxyTrusted: UNTRUSTED_ONLY, proxyUntrusted: "ignore" });
    try {
      expect(await health(h.port, [proxyV1("TCP4", "203.0.113.7", "192.0.2.10", 1, 2) + healthRequest()])).toMatchObject({
        client: "127.0.0.1",
        via: "socket",
      });
      expect(await health(h.port, [Buffer.concat([proxyV2({ src: "2001:db8::9" }), Buffer.from(healthRequest())])])).toMatchObject({
        client: "127.0.0.1",
        via: "socket",
      });
      // Ignored still means parsed: a broken header is not waved through.
      await expectCut(h.port, ["PROXY TCP4 banana\r\n" + healthRequest()]);
    } finally {
      await h.origin.close();
    }
  });
});

describe("listener modes", () => {
  it("require: no header closes the connection; a header is served", async () => {
    const h = await start("pp-require", { proxy: "require" });
    try {
      await expectCut(h.port, [healthRequest()]);
      expect(h.rejections[0]?.reason).toBe("PROXY header required but absent");
      expect(await health(h.port, [proxyV1("TCP4", "203.0.113.7", "192.0.2.10", 1, 2) + healthRequest()])).toMatchObject({
        via: "proxy",
      });
    } finally {
      await h.origin.close();
    }
  });

  it("refuse: a header closes the connection; plain HTTP is served", async () => {
    const h = await start("pp-refuse", { proxy: "refuse" });
    try {
      await expectCut(h.port, [proxyV1("TCP4", "203.0.113.7", "192.0.2.10", 1, 2) + healthRequest()]);
      await expectCut(h.port, [Buffer.concat([proxyV2(), Buffer.from(healthRequest())])]);
      expect(h.rejections.every((r) => r.reason === "PROXY header refused on this listener")).toBe(true);
      expect(await health(h.port, [healthRequest()])).toMatchObject({ via: "socket" });
    } finally {
      await h.origin.close();
    }
  });

  it("accept: a connection that sends nothing is closed after the timeout too", async () => {
    const h = await start("pp-accept-silent", { proxyTimeoutMs: 200 });
    try {
      await expectCut(h.port, []);
      expect(h.rejections.map((r) => r.reason)).toEqual(["no bytes within 200 ms"]);
      expect(await health(h.port, [healthRequest()])).toMatchObject({ via: "socket" });
    } finally {
      await h.origin.close();
    }
  });

  it("applies per-listener overrides", async () => {
    const h = await start("pp-per-listener", {
      listeners: [
        { kind: "combined", host: "127.0.0.1", port: 0, proxy: "require" },
        { kind: "combined", host: "127.0.0.1", port: 0, proxy: "refuse" },
      ],
    });
    try {
      const [requirePort, refusePort] = h.origin.listeners.map((l) => l.port);
      expect(h.origin.listeners.map((l) => l.proxy)).toEqual(["require", "refuse"]);
      await expectCut(requirePort ?? 0, [healthRequest()]);
      expect(await health(refusePort ?? 0, [healthRequest()])).toMatchObject({ via: "socket" });
    } finally {
      await h.origin.close();
    }
  });
});

describe("garbage closes only its own connection", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await start("pp-garbage", { proxy: "require", proxyTimeoutMs: 300 });
  });
  afterAll(async () => {
    await h.origin.close();
  });

  const good = (): string => proxyV1("TCP4", "203.0.113.1", "192.0.2.10", 1, 2) + healthRequest();
  const v2 = proxyV2({ src: "203.0.113.2" });
  const badSignature = Buffer.from(v2);
  badSignature.write("QUIX", 7, "latin1");
  const hugeLength = Buffer.from(v2);
  hugeLength.writeUInt16BE(65000, 14);
  const lyingLength = Buffer.from(v2);
  lyingLength.writeUInt16BE(v2.readUInt16BE(14) + 40, 14); // claims 40 more bytes: HTTP gets read as TLVs

  it.each<[string, ReadonlyArray<string | Uint8Array>, RegExp]>([
    ["a bad v2 signature", [Buffer.concat([badSignature, Buffer.from(healthRequest())])], /required but absent/],
    ["a v2 header whose length overruns into the request", [Buffer.concat([lyingLength, Buffer.from(healthRequest())])], /malformed PROXY header/],
    ["a v2 header claiming 65000 bytes", [hugeLength], /exceeds/],
    ["an oversized v1 line", [`PROXY TCP4 ${"1".repeat(200)}`], /107/],
    ["bad v1 fields", ["PROXY TCP4 1.2.3.4 5.6.7.8 99999 1\r\n" + healthRequest()], /malformed port/],
    ["a v1 header with a bare LF", ["PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n" + healthRequest()], /control or non-ASCII/],
    ["a truncated v2 header that stalls", [v2.subarray(0, 20)], /incomplete PROXY header within 300 ms/],
    ["a truncated v1 header that stalls", ["PROXY TCP4 1.2.3.4"], /incomplete PROXY header within 300 ms/],
    ["a connection that sends nothing", [], /no PROXY header within 300 ms/],
    ["binary noise", [Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x00])], /required but absent/],
  ])("%s", async (_name, chunks, reason) => {
    const before = h.rejections.length;
    await expectCut(h.port, chunks);
    expect(h.rejections.slice(before).map((r) => r.reason)).toEqual([expect.stringMatching(reason)]);
    expect(await health(h.port, [good()])).toMatchObject({ client: "203.0.113.1", via: "proxy" });
  });

});

describe("a stalled connection does not hold up others", () => {
  it("serves new connections while one is still waiting for its header", async () => {
    // A long timeout, so the stalled connection is certainly still pending meanwhile.
    const h = await start("pp-stalled", { proxy: "require", proxyTimeoutMs: 30_000 });
    const stalled = connect({ port: h.port, host: "127.0.0.1" });
    stalled.on("error", () => {});
    try {
      await withTimeout(new Promise<void>((resolve) => stalled.once("connect", () => resolve())), WAIT_MS, "connect");
      stalled.write(proxyV2().subarray(0, 10));
      for (let i = 0; i < 3; i++) {
        const good = proxyV1("TCP4", "203.0.113.3", "192.0.2.10", 1, 2) + healthRequest();
        expect(await health(h.port, [good])).toMatchObject({ client: "203.0.113.3", via: "proxy" });
      }
      expect(h.rejections).toEqual([]);
      expect(stalled.destroyed).toBe(false);
    } finally {
      stalled.destroy();
      await h.origin.close();
    }
  });
});
