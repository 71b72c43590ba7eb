/**
 * F8 (issue 16): admin brute force. 401s are limited per client network (IPv4 /24, IPv6
 * /48) with 429 + Retry-After, denials are logged in aggregate, and a short ADMIN_TOKEN is
 * refused at runtime with a config error naming it.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { validateEdgeVars } from "../../infra/local/validate-config.ts";
import { createApp } from "../../workers/edge/app.ts";
import { ADMIN_FAILURE_LIMIT, ADMIN_WINDOW_MS } from "../../workers/edge/routes/admin-limit.ts";

const app = createApp();
const POOLS = JSON.stringify({ pools: [{ name: "default", hosts: ["push.example.com"], origins: [{ id: "o1", url: "http://127.0.0.1:9001" }] }] });

const admin = (ip: string, token: string, vars: Partial<Env> = {}, path = "/_edge/admin/sessions/none") =>
  app.request(`http://ops.local${path}`, { headers: { authorization: `Bearer ${token}`, "cf-connecting-ip": ip } }, { ...env, POOLS, ...vars });

const adminLines = (spy: { mock: { calls: unknown[][] } }) =>
  spy.mock.calls.map((c) => JSON.parse(String(c[0])) as Record<string, unknown>).filter((l) => String(l.event).startsWith("admin_denied"));

afterEach(() => {
  vi.restoreAllMocks();
});

describe("F8: failed admin authentications per network", () => {
  it.each([
    ["IPv4 /24", "198.51.100.7", "198.51.100.250", "198.51.101.7"],
    ["IPv6 /48", "2001:db8:77:1::1", "2001:db8:77:ffff::2", "2001:db8:78::1"],
  ])("%s: past the limit, 429 + Retry-After for the whole network — even with the right token — and not for others", async (_label, ip, neighbour, outsider) => {
    vi.spyOn(console, "log").mockImplementation(() => undefined);
    for (let i = 0; i < ADMIN_FAILURE_LIMIT; i++) {
      const res = await admin(ip, `wrong-guess-${i}`);
      expect(res.status).toBe(401);
    }
    const locked = await admin(ip, "another-guess");
    expect(locked.status).toBe(429);
    expect(await locked.json()).toEqual({ error: "too_many_requests", message: expect.any(String) });
    const retry = Number(locked.headers.get("retry-after"));
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(ADMIN_WINDOW_MS / 1000);
    // The right token from the same network waits too: a guess made now would learn nothing.
    expect((await admin(neighbour, env.ADMIN_TOKEN)).status).toBe(429);
    // Another network is not affected: past the gates, the lookup answers 404.
    expect((await admin(outsider, env.ADMIN_TOKEN)).status).toBe(404);
  });

  it("the lock ends with its window", async () => {
    vi.spyOn(console, "log").mockImplementation(() => undefined);
    const start = Date.now();
    const clock = vi.spyOn(Date, "now").mockReturnValue(start);
    for (let i = 0; i < ADMIN_FAILURE_LIMIT; i++) await admin("192.0.2.77", "nope-nope-nope");
    expect((await admin("192.0.2.77", env.ADMIN_TOKEN)).status).toBe(429);
    clock.mockReturnValue(start + ADMIN_WINDOW_MS + 1);
    expect((await admin("192.0.2.77", env.ADMIN_TOKEN)).status).toBe(404);
  });

  it("logs denials in aggregate: a handful of lines for a flood, never one per attempt", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    const attempts = ADMIN_FAILURE_LIMIT * 3;
    for (let i = 0; i < attempts; i++) await admin("203.0.113.9", `guess-${i}`);
    const lines = adminLines(log);
    expect(lines.length).toBeLessThanOrEqual(3);
    expect(lines[0]).toMatchObject({ event: "admin_denied", why: "wrong token", network: "203.0.113.0/24", who: { ip: "203.0.113.9" } });
    expect(lines).toContainEqual(expect.objectContaining({ event: "admin_denied_summary", network: "203.0.113.0/24", locked: true, denied: ADMIN_FAILURE_LIMIT }));
    expect(JSON.stringify(lines)).not.toContain("guess-");
  });
});

describe("F8: a short ADMIN_TOKEN is refused at runtime", () => {
  it("500 config_invalid on the admin API (the log names ADMIN_TOKEN), and the local stack will not start with it", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const res = await admin("192.0.2.200", "short-token", { ADMIN_TOKEN: "short-token" });
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ error: "config_invalid" });
    expect(errors.mock.calls.map((c) => String(c[0])).some((l) => l.includes('"field":"ADMIN_TOKEN"'))).toBe(true);
    expect(() => validateEdgeVars({ POOLS, AFFINITY_KEYS: env.AFFINITY_KEYS, AFFINITY_SIGNING_KID: env.AFFINITY_SIGNING_KID, ADMIN_TOKEN: "short-token" })).toThrow(/ADMIN_TOKEN: must be at least 16 characters/);
  });
});
