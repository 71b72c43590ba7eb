/**
 * The admin API's gates: which hosts it answers on (403), which bearer tokens it takes
 * (401), and the audit line every state change leaves.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../../workers/edge/app.ts";
import { matchAdminToken, sameSecret } from "../../workers/edge/routes/admin-access.ts";

const app = createApp();
const POOLS = JSON.stringify({ pools: [{ name: "default", hosts: ["push.example.com"], origins: [{ id: "o1", url: "http://127.0.0.1:9001" }] }] });
const CI_TOKEN = "ci-token-0123456789abcdef";

const admin = (host: string, path: string, init: RequestInit & { token?: string } = {}, vars: Partial<Env> = {}) =>
  app.request(
    `http://${host}/_edge/admin${path}`,
    { ...init, headers: { ...(init.token === undefined ? {} : { authorization: `Bearer ${init.token}` }), "cf-connecting-ip": "192.0.2.9", ...init.headers } },
    { ...env, POOLS, ...vars },
  );

afterEach(() => {
  vi.restoreAllMocks();
});

describe("admin hosts", () => {
  it("by default: not on a pool's own host name (403), yes on any other", async () => {
    const onPool = await admin("push.example.com", "/sessions/none", { token: env.ADMIN_TOKEN });
    expect(onPool.status).toBe(403);
    expect(await onPool.json()).toMatchObject({ error: "forbidden" });
    // Past the gates: the session lookup itself answers.
    const elsewhere = await admin("push-edge.example.workers.dev", "/sessions/none", { token: env.ADMIN_TOKEN });
    expect(elsewhere.status).toBe(404);
    expect(await elsewhere.json()).toMatchObject({ error: "session_not_found" });
  });

  it("with ADMIN_HOSTS: only there ('*': everywhere)", async () => {
    const vars = { ADMIN_HOSTS: "ops.example.com, other-ops.example.com" };
    expect((await admin("ops.example.com", "/sessions/none", { token: env.ADMIN_TOKEN }, vars)).status).toBe(404);
    expect((await admin("OTHER-OPS.example.com", "/sessions/none", { token: env.ADMIN_TOKEN }, vars)).status).toBe(404);
    expect((await admin("push-edge.example.workers.dev", "/sessions/none", { token: env.ADMIN_TOKEN }, vars)).status).toBe(403);
    expect((await admin("push.example.com", "/sessions/none", { token: env.ADMIN_TOKEN }, { ADMIN_HOSTS: "*" })).status).toBe(404);
  });

  it("the host gate comes before the token: a wrong host gets 403 even without a token", async () => {
    expect((await admin("push.example.com", "/pool")).status).toBe(403);
  });
});

describe("admin tokens", () => {
  it("401 JSON with WWW-Authenticate for a missing, wrong or non-Bearer token", async () => {
    for (const headers of [{} as Record<string, string>, { authorization: "Bearer nope" }, { authorization: `Basic ${env.ADMIN_TOKEN}` }, { authorization: `Bearer ${env.ADMIN_TOKEN}x` }]) {
      const res = await admin("ops.local", "/sessions/none", { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer /);
      expect(await res.json()).toEqual({ error: "unauthorized", message: expect.any(String) });
    }
  });

  it("takes named ADMIN_TOKENS next to ADMIN_TOKEN", async () => {
    const vars = { ADMIN_TOKENS: JSON.stringify({ ci: CI_TOKEN }) };
    expect((await admin("ops.local", "/sessions/none", { token: CI_TOKEN }, vars)).status).toBe(404);
    expect((await admin("ops.local", "/sessions/none", { token: env.ADMIN_TOKEN }, vars)).status).toBe(404);
    expect((await admin("ops.local", "/sessions/none", { token: CI_TOKEN })).status).toBe(401);
  });

  it("a bad ADMIN_TOKENS is a config error naming the field", async () => {
    const res = await admin("ops.local", "/pool", { token: env.ADMIN_TOKEN }, { ADMIN_TOKENS: JSON.stringify({ ci: "short" }) });
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ error: "config_invalid", message: expect.stringContaining("ADMIN_TOKENS.ci") });
  });

  it("compares in constant time over every token", () => {
    expect(sameSecret("abc", "abc")).toBe(true);
    expect(sameSecret("abc", "abd")).toBe(false);
    expect(sameSecret("abc", "abcd")).toBe(false);
    expect(sameSecret("", "x")).toBe(false);
    const tokens = [{ name: "a", token: "same-token-aaaaaaaa" }, { name: "b", token: "other-token-bbbbbbb" }];
    expect(matchAdminToken(tokens, "other-token-bbbbbbb")?.name).toBe("b");
    expect(matchAdminToken(tokens, "other-token-bbbbbbc")).toBeUndefined();
  });
});

describe("audit log", () => {
  const lines = (spy: { mock: { calls: unknown[][] } }) =>
    spy.mock.calls.map((c) => JSON.parse(String(c[0])) as Record<string, unknown>).filter((l) => typeof l.event === "string" && String(l.event).startsWith("admin_"));

  it("logs one line per state change: who (token name, token hash, address) and what", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    const vars = { ADMIN_TOKENS: JSON.stringify({ ci: CI_TOKEN }) };
    const res = await admin("ops.local", "/sessions/sk-audit/end", { method: "POST", token: CI_TOKEN, body: JSON.stringify({ reason: "admin", detail: "audit test" }) }, vars);
    expect(res.status).toBe(404); // no such session; the attempt is still a state change
    const audit = lines(log);
    expect(audit).toEqual([
      {
        event: "admin_change",
        who: { token: "ci", tokenId: expect.stringMatching(/^[0-9a-f]{8}$/), ip: "192.0.2.9" },
        what: { method: "POST", path: "/_edge/admin/sessions/sk-audit/end", body: { reason: "admin", detail: "audit test" } },
        status: 404,
        at: expect.any(String),
      },
    ]);
    expect(JSON.stringify(audit)).not.toContain(CI_TOKEN);
  });

  it("logs refused requests in aggregate: the first of a network's window in full (why, who, what)", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    const from = (ip: string) => ({ "cf-connecting-ip": ip });
    await admin("ops.local", "/sessions/none", { token: env.ADMIN_TOKEN, headers: from("203.0.113.130") });
    await admin("ops.local", "/sessions/x/end", { method: "POST", token: "wrong", headers: from("203.0.113.130") });
    await admin("push.example.com", "/sessions/x/end", { method: "POST", token: env.ADMIN_TOKEN, headers: from("198.51.100.130") });
    // Later denials of the same network in the same window are counted, not logged one by one.
    await admin("ops.local", "/sessions/y/end", { method: "POST", token: "wrong-again", headers: from("203.0.113.131") });
    expect(lines(log)).toEqual([
      { event: "admin_denied", why: "wrong token", network: "203.0.113.0/24", who: { ip: "203.0.113.130" }, what: { method: "POST", path: "/_edge/admin/sessions/x/end" }, at: expect.any(String) },
      { event: "admin_denied", why: "host", network: "198.51.100.0/24", who: { ip: "198.51.100.130" }, what: { method: "POST", path: "/_edge/admin/sessions/x/end" }, at: expect.any(String) },
    ]);
  });
});
