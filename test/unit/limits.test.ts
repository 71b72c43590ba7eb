/**
 * The default input limits at the edge (wrangler.toml's pool sets none) and their
 * configuration: a URL or header block over the default is refused with its JSON error
 * before any origin or session object is involved; a bad limit setting names its field.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { ConfigError, resolveConfig } from "../../config/config.ts";
import { DEFAULT_LIMITS } from "../../config/limits.ts";

const EDGE = "http://push.example.com";

describe("default limits at the edge", () => {
  it("refuses a URL over 8 KiB (414) and headers over 32 KiB (431), reaching no origin", async () => {
    const spy = vi.spyOn(globalThis, "fetch");
    spy.mockClear();
    try {
      const url = await exports.default.fetch(`${EDGE}/session?pad=${"u".repeat(DEFAULT_LIMITS.urlBytes)}`, { method: "POST" });
      expect(url.status).toBe(414);
      expect(await url.json()).toEqual({ error: "url_too_long", message: "the request URL exceeds 8192 bytes" });
      const headers = new Headers();
      for (let i = 0; i < 5; i++) headers.set(`x-pad-${i}`, "h".repeat(7_000));
      const big = await exports.default.fetch(`${EDGE}/session`, { method: "POST", headers });
      expect(big.status).toBe(431);
      expect(await big.json()).toEqual({ error: "headers_too_large", message: "the request headers exceed 32768 bytes in total" });
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  it("refuses a CR body declared over 1 MiB (413) before verifying its token", async () => {
    const res = await exports.default.fetch(`${EDGE}/session/x/control`, {
      method: "POST",
      headers: { "x-affinity-token": "not-even-a-token", "content-length": String(DEFAULT_LIMITS.bodyBytes + 1) },
      body: new Uint8Array(DEFAULT_LIMITS.bodyBytes + 1),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: "body_too_large" });
  });
});

describe("limit settings in POOLS", () => {
  const withLimits = (limits: unknown) => ({
    POOLS: JSON.stringify({ pools: [{ name: "p", origins: [{ id: "a", url: "http://127.0.0.1:9001" }], settings: { limits } }] }),
  });
  const fieldOf = (limits: unknown): string => {
    try {
      resolveConfig(withLimits(limits));
    } catch (err) {
      if (err instanceof ConfigError) return err.field;
      throw err;
    }
    return "no error";
  };

  it("reads them, keeping defaults for the rest", () => {
    expect(resolveConfig(withLimits({ bodyBytes: 4096 })).pools[0]?.settings.limits).toEqual({ ...DEFAULT_LIMITS, bodyBytes: 4096 });
  });

  it("names the bad field", () => {
    expect(fieldOf({ bodyBytes: 10 })).toBe("POOLS.pools[0].settings.limits.bodyBytes");
    expect(fieldOf({ webSocketMessageBytes: 2 * 1024 * 1024 })).toBe("POOLS.pools[0].settings.limits.webSocketMessageBytes");
    expect(fieldOf({ urlBytes: "8k" })).toBe("POOLS.pools[0].settings.limits.urlBytes");
    expect(fieldOf({ lineBytes: 1 })).toBe("POOLS.pools[0].settings.limits.lineBytes");
    expect(fieldOf([])).toBe("POOLS.pools[0].settings.limits");
  });
});
