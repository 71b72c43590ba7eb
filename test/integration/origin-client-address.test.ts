// Client address attribution: Forwarded / X-Forwarded-For are believed only from trusted
// peers, a trusted PROXY header outranks them, and the parsing of both headers.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAddressMatcher, normalizeAddress } from "../../infra/origin/address-match.ts";
import { forwardedFor, xForwardedFor } from "../../infra/origin/client-address.ts";
import { startOrigin, type RunningOrigin } from "../../infra/origin/origin.ts";
import { httpJson, openSse } from "./support/http-clients.ts";
import { proxyV1 } from "./support/proxy-headers.ts";
import { healthRequest, rawExchange, rawJsonBody } from "./support/raw-tcp.ts";

describe("Forwarded / X-Forwarded-For header parsing", () => {
  it.each([
    ["for=192.0.2.60;proto=http;by=203.0.113.43", "192.0.2.60"],
    ['for="[2001:db8:cafe::17]:4711"', "2001:db8:cafe::17"],
    ["For=198.51.100.17:8080, for=192.0.2.1", "198.51.100.17"],
    ['proto=https;for="192.0.2.43", for=198.51.100.17', "192.0.2.43"],
    ["for=unknown, for=192.0.2.1", undefined],
    ["for=_hidden", undefined],
    ['for="[2001:db8::1"', undefined],
    ["by=203.0.113.43", undefined],
    ['for="::ffff:192.0.2.9"', "192.0.2.9"],
  ])("Forwarded: %s → %s", (value, expected) => {
    expect(forwardedFor(value)).toBe(expected);
  });

  it.each([
    ["198.51.100.1, 10.0.0.1, 10.0.0.2", "198.51.100.1"],
    ["2001:db8::5", "2001:db8::5"],
    ["[2001:db8::5]:443", "2001:db8::5"],
    ["203.0.113.5:1234", "203.0.113.5"],
    ["not-an-address, 10.0.0.1", undefined],
    ["", undefined],
  ])("X-Forwarded-For: %s → %s", (value, expected) => {
    expect(xForwardedFor(value)).toBe(expected);
  });

  it("matches trusted lists by address and CIDR, IPv4-mapped IPv6 included", () => {
    const matcher = createAddressMatcher(["127.0.0.1", "10.0.0.0/8", "fd00::/8"]);
    expect(matcher.has("127.0.0.1")).toBe(true);
    expect(matcher.has("::ffff:127.0.0.1")).toBe(true);
    expect(matcher.has("10.200.3.4")).toBe(true);
    expect(matcher.has("fd12::1")).toBe(true);
    expect(matcher.has("127.0.0.2")).toBe(false);
    expect(matcher.has("::1")).toBe(false);
    expect(matcher.has(undefined)).toBe(false);
    expect(normalizeAddress("FE80::1%eth0")).toBe("fe80::1");
    expect(() => createAddressMatcher(["10.0.0.0/33"])).toThrow(/CIDR/);
    expect(() => createAddressMatcher(["example.com"])).toThrow(/not an IP/);
  });
});

describe("client attribution on a live origin", () => {
  let trusting: RunningOrigin;
  let distrusting: RunningOrigin;
  let trustingUrl: string;
  let distrustingUrl: string;

  beforeAll(async () => {
    trusting = await startOrigin({ id: "fwd-trust", listeners: [{ kind: "combined", host: "127.0.0.1", port: 0 }], intervalMs: 0 });
    distrusting = await startOrigin({
      id: "fwd-distrust",
      listeners: [{ kind: "combined", host: "127.0.0.1", port: 0 }],
      forwardedTrusted: ["10.255.255.1"], // config only: no traffic comes from there
      intervalMs: 0,
    });
    trustingUrl = trusting.listeners[0]?.url ?? "";
    distrustingUrl = distrusting.listeners[0]?.url ?? "";
  });
  afterAll(async () => {
    await Promise.all([trusting.close(), distrusting.close()]);
  });

  it("believes X-Forwarded-For and Forwarded from a trusted peer (Forwarded first)", async () => {
    const xff = await httpJson(`${trustingUrl}/health`, { headers: { "X-Forwarded-For": "198.51.100.1, 10.0.0.1" } });
    expect(xff.body).toMatchObject({ client: "198.51.100.1", via: "forwarded" });
    const both = await httpJson(`${trustingUrl}/health`, {
      headers: { Forwarded: 'for="[2001:db8::77]:1234";proto=https', "X-Forwarded-For": "198.51.100.1" },
    });
    expect(both.body).toMatchObject({ client: "2001:db8::77", via: "forwarded" });
    const unusable = await httpJson(`${trustingUrl}/health`, { headers: { "X-Forwarded-For": "garbage" } });
    expect(unusable.body).toMatchObject({ client: "127.0.0.1", via: "socket" });
  });

  it("ignores those headers from an untrusted peer", async () => {
    const response = await httpJson(`${distrustingUrl}/health`, {
      headers: { "X-Forwarded-For": "198.51.100.1", Forwarded: "for=192.0.2.60" },
    });
    expect(response.body).toMatchObject({ client: "127.0.0.1", via: "socket" });
  });

  it("carries the attributed client into session creation and ticks", async () => {
    const headers = { "X-Forwarded-For": "198.51.100.200" };
    const created = await httpJson(`${trustingUrl}/session`, { method: "POST", headers });
    const sid = (created.body as { id: string; client: string }).id;
    expect((created.body as { client: string }).client).toBe("198.51.100.200");
    const stream = await openSse(`${trustingUrl}/session/${sid}/stream?interval_ms=10&count=1`, headers);
    expect(JSON.parse((await stream.next()).data)).toMatchObject({ type: "tick", client: "198.51.100.200" });
    const entry = trusting.requests().find((e) => e.session === sid && e.path.endsWith("/stream"));
    expect(entry).toMatchObject({ client: "198.51.100.200", via: "forwarded", peer: "127.0.0.1" });
  });

  it("lets a trusted PROXY header outrank X-Forwarded-For", async () => {
    const port = trusting.listeners[0]?.port ?? 0;
    const exchange = await rawExchange(port, [
      proxyV1("TCP4", "203.0.113.99", "192.0.2.1", 1, 2) + healthRequest("X-Forwarded-For: 198.51.100.1\r\n"),
    ]);
    expect(rawJsonBody(exchange.response)).toMatchObject({ client: "203.0.113.99", via: "proxy" });
  });
});
