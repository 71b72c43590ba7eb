import { describe, expect, it } from "vitest";
import { ConfigError, poolForHost, resolveConfig } from "../../config/config.ts";
import { DEFAULT_POOL_SETTINGS } from "../../config/pool-settings.ts";

const pools = (value: unknown) => ({ POOLS: JSON.stringify(value) });
const origin = (id: string, port = 9001) => ({ id, url: `http://127.0.0.1:${port}` });

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.field;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("edge configuration", () => {
  it("applies defaults", () => {
    const config = resolveConfig(pools({ pools: [{ name: "p", origins: [origin("a")] }] }));
    expect(config.pools[0]).toEqual({
      name: "p",
      hosts: ["*"],
      origins: [{ id: "a", url: "http://127.0.0.1:9001", weight: 1, capacity: 10_000, transport: "fetch" }],
      settings: DEFAULT_POOL_SETTINGS,
    });
    expect(config.tokenTtlSeconds).toBe(86_400);
    expect(config.maxOpenRelays).toBe(4_000);
  });

  it("reads MAX_OPEN_RELAYS (0: no limit) and names it when it is not a count", () => {
    const base = pools({ pools: [{ name: "p", origins: [origin("a")] }] });
    expect(resolveConfig({ ...base, MAX_OPEN_RELAYS: "0" }).maxOpenRelays).toBe(0);
    expect(resolveConfig({ ...base, MAX_OPEN_RELAYS: "2375" }).maxOpenRelays).toBe(2_375);
    for (const bad of ["-1", "1.5", "many"]) expect(fieldOf(() => resolveConfig({ ...base, MAX_OPEN_RELAYS: bad }))).toBe("MAX_OPEN_RELAYS");
  });

  it("names the bad field", () => {
    expect(fieldOf(() => resolveConfig({}))).toBe("POOLS");
    expect(fieldOf(() => resolveConfig({ POOLS: "{" }))).toBe("POOLS");
    expect(fieldOf(() => resolveConfig(pools({ pools: [] })))).toBe("POOLS.pools");
    expect(fieldOf(() => resolveConfig(pools({ pools: [{ name: "p", origins: [{ id: "a", url: "ftp://x" }] }] })))).toBe(
      "POOLS.pools[0].origins[0].url",
    );
    expect(fieldOf(() => resolveConfig(pools({ pools: [{ name: "p", origins: [origin("a"), origin("a", 2)] }] })))).toBe(
      "POOLS.pools[0].origins[1].id",
    );
    expect(fieldOf(() => resolveConfig(pools({ pools: [{ name: "p", origins: [{ ...origin("a"), weight: -1 }] }] })))).toBe(
      "POOLS.pools[0].origins[0].weight",
    );
    expect(
      fieldOf(() =>
        resolveConfig(pools({ pools: [{ name: "p", hosts: ["a.com"], origins: [origin("a")] }, { name: "q", hosts: ["a.com"], origins: [origin("b")] }] })),
      ),
    ).toBe("POOLS.pools[1].hosts[0]");
    expect(fieldOf(() => resolveConfig({ ...pools({ pools: [{ name: "p", origins: [origin("a")] }] }), TOKEN_TTL_SECONDS: "5" }))).toBe(
      "TOKEN_TTL_SECONDS",
    );
  });

  it("reads pool settings, naming a bad one", () => {
    const withSettings = (settings: unknown) => pools({ pools: [{ name: "p", origins: [origin("a")], settings }] });
    const config = resolveConfig(withSettings({ maxSessionSeconds: 20, admission: { sessionsPerSecond: 50 }, rebalance: { enabled: false } }));
    expect(config.pools[0]?.settings).toMatchObject({
      maxSessionSeconds: 20,
      admission: { sessionsPerSecond: 50, burst: DEFAULT_POOL_SETTINGS.admission.burst },
      rebalance: { enabled: false, tolerance: DEFAULT_POOL_SETTINGS.rebalance.tolerance },
    });
    expect(fieldOf(() => resolveConfig(withSettings({ health: { rise: 0 } })))).toBe("POOLS.pools[0].settings.health.rise");
    expect(fieldOf(() => resolveConfig(withSettings({ health: { intervalMs: 1000, timeoutMs: 1000 } })))).toBe(
      "POOLS.pools[0].settings.health.timeoutMs",
    );
    expect(fieldOf(() => resolveConfig(withSettings({ expiryJitter: 2 })))).toBe("POOLS.pools[0].settings.expiryJitter");
    expect(fieldOf(() => resolveConfig(withSettings({ typo: 1 })))).toBe("POOLS.pools[0].settings.typo");
  });

  it("selects the pool by host name, falling back to the wildcard pool", () => {
    const config = resolveConfig(
      pools({
        pools: [
          { name: "com", hosts: ["push.example.com"], origins: [origin("a")] },
          { name: "rest", hosts: ["*"], origins: [origin("b")] },
        ],
      }),
    );
    expect(poolForHost(config, "PUSH.example.com:443")?.name).toBe("com");
    expect(poolForHost(config, "push.example.org")?.name).toBe("rest");
    const strict = resolveConfig(pools({ pools: [{ name: "only", hosts: ["a.com"], origins: [origin("a")] }] }));
    expect(poolForHost(strict, "b.com")).toBeUndefined();
  });
});
