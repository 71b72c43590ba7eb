/** Per-origin transport settings in POOLS: defaults, and errors that name the field. */
import { describe, expect, it } from "vitest";
import { ConfigError, resolveConfig } from "../../config/config.ts";

const KEYS = JSON.stringify({ k1: "a2V5LWtleS1rZXkta2V5LWtleS1rZXkta2V5LWtleS1rZXk" });
const withOrigin = (origin: Record<string, unknown>, PROXY_AUTH_KEYS?: string) => ({
  POOLS: JSON.stringify({ pools: [{ name: "p", origins: [{ id: "a", url: "http://127.0.0.1:9001", ...origin }] }] }),
  ...(PROXY_AUTH_KEYS === undefined ? {} : { PROXY_AUTH_KEYS }),
});

function failure(vars: Parameters<typeof resolveConfig>[0]): { field: string; message: string } {
  try {
    resolveConfig(vars);
  } catch (err) {
    if (err instanceof ConfigError) return { field: err.field, message: err.message };
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("origin transport configuration", () => {
  it("defaults tcp origins to PROXY v2 without authentication", () => {
    const origin = resolveConfig(withOrigin({ transport: "tcp" })).pools[0]?.origins[0];
    expect(origin).toMatchObject({ transport: "tcp", proxy: { version: 2 } });
    expect(origin?.proxy?.authKid).toBeUndefined();
  });

  it("takes v1, and v2 signed with a key PROXY_AUTH_KEYS holds", () => {
    expect(resolveConfig(withOrigin({ transport: "tcp", proxy: { version: 1 } })).pools[0]?.origins[0]?.proxy).toEqual({ version: 1 });
    expect(resolveConfig(withOrigin({ transport: "tcp", proxy: { authKid: "k1" } }, KEYS)).pools[0]?.origins[0]?.proxy).toEqual({
      version: 2,
      authKid: "k1",
    });
  });

  it("names the bad field", () => {
    const o = "POOLS.pools[0].origins[0]";
    expect(failure(withOrigin({ transport: "udp" })).field).toBe(`${o}.transport`);
    expect(failure(withOrigin({ proxy: { version: 2 } })).field).toBe(`${o}.proxy`);
    expect(failure(withOrigin({ transport: "tcp", proxy: "v2" })).field).toBe(`${o}.proxy`);
    expect(failure(withOrigin({ transport: "tcp", proxy: { version: 3 } })).field).toBe(`${o}.proxy.version`);
    expect(failure(withOrigin({ transport: "tcp", proxy: { authkid: "k1" } })).field).toBe(`${o}.proxy.authkid`);
    expect(failure(withOrigin({ transport: "tcp", proxy: { version: 1, authKid: "k1" } }, KEYS))).toMatchObject({
      field: `${o}.proxy.authKid`,
      message: expect.stringContaining("version 2"),
    });
    expect(failure(withOrigin({ transport: "tcp", proxy: { authKid: "k9" } }, KEYS))).toMatchObject({
      field: `${o}.proxy.authKid`,
      message: expect.stringContaining('no key "k9"'),
    });
    expect(failure(withOrigin({}, "{")).field).toBe("PROXY_AUTH_KEYS");
    expect(failure(withOrigin({}, JSON.stringify({ k1: "c2hvcnQ" }))).field).toBe("PROXY_AUTH_KEYS.k1");
  });
});
