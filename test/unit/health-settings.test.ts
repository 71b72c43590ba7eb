/** Health check configuration (config/health-settings.ts) through POOLS, as an operator writes it. */
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../config/config.ts";
import { DEFAULT_HEALTH_SETTINGS } from "../../config/health-settings.ts";

function withHealth(health: unknown, originHealth?: unknown) {
  const origin = { id: "a", url: "http://127.0.0.1:9001", ...(originHealth === undefined ? {} : { health: originHealth }) };
  return () => resolveConfig({ POOLS: JSON.stringify({ pools: [{ name: "p", origins: [origin], settings: { health } }] }) });
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  throw new Error("expected a configuration error");
}

describe("health settings", () => {
  it("defaults to the check any unchanged server passes (auto: TCP connect, JSON /health where served)", () => {
    const config = resolveConfig({ POOLS: JSON.stringify({ pools: [{ name: "p", origins: [{ id: "a", url: "http://127.0.0.1:1" }] }] }) });
    expect(config.pools[0]?.settings.health).toEqual(DEFAULT_HEALTH_SETTINGS);
    expect(DEFAULT_HEALTH_SETTINGS.type).toBe("auto");
  });

  it("names the field and the allowed types for an unknown type", () => {
    expect(messageOf(withHealth({ type: "ping" }))).toContain('POOLS.pools[0].settings.health.type: expected "http" | "tcp" | "none" | "probe"');
  });

  it("reads an http check with path, status set or range, and body text", () => {
    const config = withHealth({ type: "http", path: "/lightstreamer/healthcheck", expect: { status: ["200-299", 404], body: "OK" } })();
    expect(config.pools[0]?.settings.health).toMatchObject({
      type: "http",
      path: "/lightstreamer/healthcheck",
      expectStatus: [{ min: 200, max: 299 }, { min: 404, max: 404 }],
      expectBody: "OK",
    });
  });

  it("names each bad field", () => {
    expect(messageOf(withHealth({ type: "http", path: "health" }))).toMatch(/^POOLS\.pools\[0\]\.settings\.health\.path: /);
    expect(messageOf(withHealth({ type: "http", expect: { status: "299-200" } }))).toMatch(/^POOLS\.pools\[0\]\.settings\.health\.expect\.status: /);
    expect(messageOf(withHealth({ type: "http", expect: { status: [200, 700] } }))).toMatch(/^POOLS\.pools\[0\]\.settings\.health\.expect\.status\[1\]: /);
    expect(messageOf(withHealth({ type: "http", expect: { text: "OK" } }))).toMatch(/^POOLS\.pools\[0\]\.settings\.health\.expect\.text: unknown setting/);
    expect(messageOf(withHealth({ type: "tcp", expect: { body: "OK" } }))).toBe('POOLS.pools[0].settings.health.expect: only applies to type "http"');
    expect(messageOf(withHealth({ type: "probe" }))).toMatch(/^POOLS\.pools\[0\]\.settings\.health\.protocol: type "probe" needs a protocol/);
    expect(messageOf(withHealth({ type: "probe", protocol: "diffusion" }))).toMatch(/^POOLS\.pools\[0\]\.settings\.health\.protocol: expected "engine\.io"/);
    expect(messageOf(withHealth({ timeoutMs: 3000 }))).toBe("POOLS.pools[0].settings.health.timeoutMs: must be less than health.intervalMs");
    expect(messageOf(withHealth({ rise: 0 }))).toBe("POOLS.pools[0].settings.health.rise: must be a number in [1, 100]");
    expect(messageOf(withHealth({ kind: "tcp" }))).toMatch(/^POOLS\.pools\[0\]\.settings\.health\.kind: unknown setting/);
  });

  it("lets an origin override its pool's check, and names the origin's field when it is wrong", () => {
    const config = withHealth({ type: "tcp" }, { type: "probe", protocol: "engine.io", intervalMs: 5000 })();
    expect(config.pools[0]?.origins[0]?.health).toEqual({ type: "probe", protocol: "engine.io", intervalMs: 5000 });
    expect(messageOf(withHealth({ type: "tcp" }, { type: "bogus" }))).toMatch(/^POOLS\.pools\[0\]\.origins\[0\]\.health\.type: expected "http"/);
    expect(messageOf(withHealth({ intervalMs: 1000, timeoutMs: 500 }, { timeoutMs: 1200 }))).toBe(
      "POOLS.pools[0].origins[0].health.timeoutMs: must be less than health.intervalMs",
    );
  });
});
