// The reference origin's PROXY header limits are configurable: the largest v2 header
// (`--proxy-max-header-bytes`, per listener `proxy-max-header-bytes=`) and the time allowed
// for it (`--proxy-timeout-ms`). Over either, that one connection is cut — with a reason
// that names the limit — while a well-formed connection alongside is served.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCliArgs } from "../../infra/origin/cli-args.ts";
import { OptionError } from "../../infra/origin/options.ts";
import { startOrigin, type ProxyRejection, type RunningOrigin, type StartOriginOptions } from "../../infra/origin/origin.ts";
import { DEFAULT_V2_MAX_LENGTH } from "../../infra/origin/proxy-protocol-v2.ts";
import { proxyV1, proxyV2 } from "./support/proxy-headers.ts";
import { healthRequest, rawExchange, rawJsonBody, rawStatus } from "./support/raw-tcp.ts";

type Harness = { origin: RunningOrigin; ports: number[]; rejections: ProxyRejection[] };

async function start(id: string, options: Partial<StartOriginOptions> = {}): Promise<Harness> {
  const rejections: ProxyRejection[] = [];
  const origin = await startOrigin({
    id,
    listeners: [{ kind: "combined", host: "127.0.0.1", port: 0 }],
    intervalMs: 0,
    proxy: "require",
    ...options,
    onConnectionRejected: (rejection) => rejections.push(rejection),
  });
  return { origin, ports: origin.listeners.map((l) => l.port), rejections };
}

/** A v2 header of exactly `total` bytes (IPv4 addresses + one NOOP TLV as padding). */
function v2OfLength(total: number, src = "203.0.113.9"): Buffer {
  const header = proxyV2({ src, tlvs: [{ type: 0x04, value: Buffer.alloc(total - 16 - 12 - 3) }] });
  expect(header.length).toBe(total);
  return header;
}

async function served(port: number, header: Uint8Array): Promise<{ client: string; via: string }> {
  const exchange = await rawExchange(port, [Buffer.concat([header, Buffer.from(healthRequest())])]);
  expect(rawStatus(exchange.response), exchange.response).toBe(200);
  return rawJsonBody(exchange.response) as { client: string; via: string };
}

async function cut(h: Harness, port: number, chunks: ReadonlyArray<Uint8Array | string>): Promise<string> {
  const before = h.rejections.length;
  const exchange = await rawExchange(port, chunks);
  expect(exchange).toEqual({ closed: true, response: "" });
  const reasons = h.rejections.slice(before).map((r) => r.reason);
  expect(reasons).toHaveLength(1);
  return reasons[0] ?? "";
}

describe("PROXY v2 header size limit", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await start("limits-pp-size", {
      proxyMaxHeaderBytes: 300,
      listeners: [
        { kind: "combined", host: "127.0.0.1", port: 0 },
        { kind: "combined", host: "127.0.0.1", port: 0, proxyMaxHeaderBytes: 4096 },
        { kind: "combined", host: "127.0.0.1", port: 0, proxyMaxHeaderBytes: DEFAULT_V2_MAX_LENGTH },
      ],
    });
  });
  afterAll(async () => {
    await h.origin.close();
  });

  it("accepts a header at the limit and cuts one a byte over it, from its length field alone", async () => {
    const [small = 0] = h.ports;
    expect(await served(small, v2OfLength(300))).toMatchObject({ client: "203.0.113.9", via: "proxy" });
    // Only the 16-byte preamble is sent: the length field is enough to refuse.
    const reason = await cut(h, small, [v2OfLength(301).subarray(0, 16)]);
    expect(reason).toBe("malformed PROXY header: v2 header of 301 bytes exceeds the 300-byte limit");
    expect(await served(small, proxyV2({ src: "203.0.113.10" }))).toMatchObject({ client: "203.0.113.10" });
  });

  it("applies a per-listener limit over the origin-wide one", async () => {
    const [, large = 0] = h.ports;
    expect(await served(large, v2OfLength(4000))).toMatchObject({ client: "203.0.113.9", via: "proxy" });
    expect(await cut(h, large, [v2OfLength(4097)])).toMatch(/4097 bytes exceeds the 4096-byte limit/);
  });

  it("keeps the 2048-byte default where set, and v1 headers stay bounded by the spec's 107 bytes", async () => {
    const [, , standard = 0] = h.ports;
    expect(await cut(h, standard, [v2OfLength(DEFAULT_V2_MAX_LENGTH + 1)])).toMatch(/exceeds the 2048-byte limit/);
    expect(await cut(h, standard, [`PROXY TCP4 ${"9".repeat(120)}`])).toMatch(/107/);
    expect(await served(standard, Buffer.from(proxyV1("TCP4", "203.0.113.11", "192.0.2.1", 1, 2)))).toMatchObject({
      client: "203.0.113.11",
    });
  });
});

describe("PROXY header timeout", () => {
  it("cuts a header that stalls past the configured time, serving others meanwhile", async () => {
    const h = await start("limits-pp-timeout", { proxyTimeoutMs: 250 });
    try {
      const [port = 0] = h.ports;
      const stalled = cut(h, port, [proxyV2().subarray(0, 20)]);
      expect(await served(port, proxyV2({ src: "203.0.113.12" }))).toMatchObject({ client: "203.0.113.12" });
      expect(await stalled).toBe("incomplete PROXY header within 250 ms");
    } finally {
      await h.origin.close();
    }
  });
});

describe("PROXY limit flags", () => {
  const base = ["--id", "o1", "--listen", "combined=127.0.0.1:0"];
  it("reads --proxy-max-header-bytes and the per-listener option", () => {
    const parsed = parseCliArgs([...base, "--proxy-max-header-bytes", "512", "--listen", "combined=127.0.0.1:0,proxy-max-header-bytes=9000"]);
    expect(parsed.kind).toBe("run");
    if (parsed.kind !== "run") return;
    expect(parsed.options.proxyMaxHeaderBytes).toBe(512);
    expect(parsed.options.listeners[1]?.proxyMaxHeaderBytes).toBe(9000);
  });

  it("refuses a limit no header could meet, naming the field", async () => {
    await expect(start("limits-pp-bad", { proxyMaxHeaderBytes: 50 })).rejects.toThrow(OptionError);
    await expect(start("limits-pp-bad", { proxyMaxHeaderBytes: 50 })).rejects.toThrow(/^proxyMaxHeaderBytes: must be an integer number of bytes in \[108, 65551\]/);
    await expect(
      start("limits-pp-bad", { listeners: [{ kind: "combined", host: "127.0.0.1", port: 0, proxyMaxHeaderBytes: 70_000 }] }),
    ).rejects.toThrow(/^listeners\[0\]\.proxyMaxHeaderBytes: /);
  });
});
