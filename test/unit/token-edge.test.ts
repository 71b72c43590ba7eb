/**
 * Token checks as the edge applies them to requests: a stable code per failure, network
 * binding, the verified token handed to the origin (and a client's copy never), and JWKS
 * failures naming the field.
 */
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm } from "cloudflare:test";
import { base64url } from "jose";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { coordinatorStub } from "../../durable-objects/pool/stub.ts";
import { createApp } from "../../workers/edge/app.ts";
import { resetPoolViews } from "../../workers/edge/balance/pool-view.ts";
import { resolveKeyRing } from "../../workers/edge/token/keyring.ts";
import { mintAffinityToken } from "../../workers/edge/token/mint.ts";
import { networkPrefix } from "../../workers/edge/token/network.ts";

const EDGE = "http://push.example.com";
const app = createApp();
let seen: Array<{ path: string; headers: Headers }> = [];

beforeEach(async () => {
  resetPoolViews();
  seen = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    if (url.pathname === "/health") return Response.json({ state: "active", sessions: 0, capacity: 1000 });
    seen.push({ path: url.pathname, headers: req.headers });
    return new Response("ok", { headers: { "x-origin-id": `port-${url.port}` } });
  });
  const coordinator = coordinatorStub(env, "default");
  for (let i = 0; i < 2; i++) if (!(await runDurableObjectAlarm(coordinator))) break;
});
afterEach(() => {
  vi.restoreAllMocks();
});

const call = (path: string, init: RequestInit = {}, vars: Partial<Env> = {}) =>
  app.request(`${EDGE}${path}`, init, { ...env, ...vars });

async function createFrom(ip: string, vars: Partial<Env> = {}): Promise<string> {
  const res = await call("/session", { method: "POST", headers: { "cf-connecting-ip": ip } }, vars);
  expect(res.status).toBe(200);
  return res.headers.get("x-affinity-token") ?? "";
}

const claimsOf = (token: string) => JSON.parse(new TextDecoder().decode(base64url.decode(token.split(".")[1] ?? ""))) as Record<string, unknown>;

describe("failure codes", () => {
  it("gives each failure its own code, and none reaches an origin", async () => {
    const ring = resolveKeyRing(env);
    const { token } = await mintAffinityToken(ring, { sk: "s", origin: "o1", pool: "default", ttlSeconds: 60 });
    const [h, p, s] = token.split(".");
    const gone = resolveKeyRing({ AFFINITY_KEYS: JSON.stringify({ gone: base64url.encode(new Uint8Array(32).fill(9)) }), AFFINITY_SIGNING_KID: "gone" });
    const unknown = (await mintAffinityToken(gone, { sk: "s", origin: "o1", pool: "default", ttlSeconds: 60 })).token;
    const none = `${base64url.encode(JSON.stringify({ alg: "none", kid: "test-1" }))}.${p}.`;
    const cases: Array<[string, number, string]> = [
      [unknown, 401, "unknown_key"],
      [none, 401, "token_bad_algorithm"],
      [`${h}.${p}.${(s ?? "").startsWith("A") ? "B" : "A"}${(s ?? "").slice(1)}`, 401, "token_invalid"],
      ["not-a-token", 401, "token_malformed"],
    ];
    for (const [t, status, code] of cases) {
      const res = await call("/session/x/control", { method: "POST", headers: { "x-affinity-token": t } });
      expect(res.status).toBe(status);
      expect(await res.json()).toEqual({ error: code, message: expect.any(String) });
    }
    expect(seen).toHaveLength(0);
  });
});

describe("network binding", () => {
  it("takes the /24 or /48 of the client's address", () => {
    expect(networkPrefix("203.0.113.77")).toBe("203.0.113.0/24");
    expect(networkPrefix("::ffff:203.0.113.77")).toBe("203.0.113.0/24");
    expect(networkPrefix("2001:db8:abcd:12::1")).toBe("2001:db8:abcd::/48");
    expect(networkPrefix("2001:db8::1")).toBe("2001:db8:0::/48");
    expect(networkPrefix("999.1.1.1")).toBeUndefined();
    expect(networkPrefix("nonsense")).toBeUndefined();
  });

  it("when on: a token works from its own network and gets 401 token_wrong_network from another", async () => {
    const on = { TOKEN_NETWORK_BINDING: "on" };
    const token = await createFrom("203.0.113.7", on);
    expect(typeof claimsOf(token).net).toBe("string");
    expect(JSON.stringify(claimsOf(token))).not.toContain("203.0.113");

    const sameNet = await call("/s/stream", { headers: { "x-affinity-token": token, "cf-connecting-ip": "203.0.113.200" } }, on);
    expect(sameNet.status).toBe(200);
    const before = seen.length;
    const moved = await call("/s/stream", { headers: { "x-affinity-token": token, "cf-connecting-ip": "198.51.100.7" } }, on);
    expect(moved.status).toBe(401);
    expect(await moved.json()).toMatchObject({ error: "token_wrong_network" });
    expect(seen).toHaveLength(before);

    // Switched off again: the same token works from anywhere.
    const off = await call("/s/stream", { headers: { "x-affinity-token": token, "cf-connecting-ip": "198.51.100.7" } });
    expect(off.status).toBe(200);
  });

  it("when off (the default): tokens carry no network", async () => {
    expect(claimsOf(await createFrom("203.0.113.7")).net).toBeUndefined();
  });

  it("a bad setting is a config error naming the var (to an admin; a client is told no more than config_invalid)", async () => {
    const res = await call("/session", { method: "POST" }, { TOKEN_NETWORK_BINDING: "maybe" });
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: string; message: string };
    expect(body.error).toBe("config_invalid");
    expect(body.message).not.toContain("TOKEN_NETWORK_BINDING");
    const admin = await call("/session", { method: "POST", headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } }, { TOKEN_NETWORK_BINDING: "maybe" });
    expect(await admin.json()).toMatchObject({ error: "config_invalid", message: expect.stringContaining("TOKEN_NETWORK_BINDING") });
  });
});

describe("the token on its way to the origin", () => {
  it("S and CR requests carry the session's own token as X-Push-Edge-Token; a client's own copy never passes", async () => {
    const s = await call("/session", { method: "POST", headers: { "x-push-edge-token": "forged-by-client" } });
    const token = s.headers.get("x-affinity-token") ?? "";
    expect(token).not.toBe("");
    // The S request names the new session to its origin (docs/security.md F4), never the client's copy.
    expect(seen[0]?.headers.get("x-push-edge-token")).toBe(token);

    await call("/s/control", { method: "POST", headers: { "x-affinity-token": token, "x-push-edge-token": "forged-by-client" } });
    const cr = seen.at(-1);
    expect(cr?.headers.get("x-push-edge-token")).toBe(token);
    expect(cr?.headers.get("x-affinity-token")).toBeNull();
  });
});

describe("key ring errors at request time", () => {
  it("a bad JWK in AFFINITY_KEYS is a 500 config_invalid naming the field (to an admin only)", async () => {
    const vars = { AFFINITY_KEYS: JSON.stringify({ "test-1": "dGVzdC1rZXktb25lLXRlc3Qta2V5LW9uZS10ZXN0LWtleS1vbmU", bad: { kty: "EC", crv: "P-256", x: "AA" } }) };
    const res = await call("/session", { method: "POST" }, vars);
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: string; message: string };
    expect(body.error).toBe("config_invalid");
    expect(body.message).not.toContain("AFFINITY_KEYS");
    const admin = await call("/session", { method: "POST", headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } }, vars);
    expect(await admin.json()).toMatchObject({ error: "config_invalid", message: expect.stringContaining("AFFINITY_KEYS.bad.x") });
  });
});
