import { env, exports } from "cloudflare:workers";
import { runDurableObjectAlarm } from "cloudflare:test";
import { coordinatorStub } from "../../durable-objects/pool/stub.ts";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { resetPoolViews, SNAPSHOT_EXPIRED_MS } from "../../workers/edge/balance/pool-view.ts";
import { resolveKeyRing } from "../../workers/edge/token/keyring.ts";
import { mintAffinityToken } from "../../workers/edge/token/mint.ts";

// wrangler.toml's pool: o1..o3 on 127.0.0.1:9001..9003. Nothing listens there in unit
// tests; the fake below plays the origins (the edge and its session objects run in the
// test's isolate, so they see this fetch).
const ORIGIN_PORTS: Record<string, string> = { "9001": "o1", "9002": "o2", "9003": "o3" };
const EDGE = "http://push.example.com";

type OriginBehaviour = (originId: string, req: Request) => Response | Promise<Response>;

let requestsTo: Array<{ origin: string; path: string; headers: Headers }> = [];

/**
 * Plays the origins, then lets the pool coordinator see them: it health-checks on its
 * alarm, so run it (twice: a recovering origin needs `rise` good checks).
 */
async function origins(behaviour: OriginBehaviour) {
  const spy = vi.spyOn(globalThis, "fetch");
  spy.mockClear();
  spy.mockImplementation(async (input, init) => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    const id = ORIGIN_PORTS[url.port] ?? "unknown";
    if (url.pathname === "/health") {
      return Response.json({ id, state: "active", sessions: 0, capacity: 1000 });
    }
    requestsTo.push({ origin: id, path: url.pathname + url.search, headers: req.headers });
    return behaviour(id, req);
  });
  await settle();
  return spy;
}

/** Runs the coordinator's health round twice (rise/fall of the test config is 2). */
async function settle(): Promise<void> {
  const coordinator = coordinatorStub(env, "default");
  for (let i = 0; i < 2; i++) if (!(await runDurableObjectAlarm(coordinator))) break;
}

const echoOrigin: OriginBehaviour = (id) =>
  new Response(`hello from ${id}`, { status: 200, headers: { "x-origin-id": id, "x-session-id": `sid-${id}` } });

const edge = (path: string, init?: RequestInit) => exports.default.fetch(new Request(`${EDGE}${path}`, init));

beforeEach(() => {
  resetPoolViews();
  requestsTo = [];
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe("edge endpoints", () => {
  it("reports health", async () => {
    const res = await edge("/_edge/health");
    expect(res.status).toBe(200);
  });

  it("answers unknown edge paths with the JSON error shape", async () => {
    const res = await edge("/_edge/nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: "not_found", message: expect.any(String) });
  });

  it("guards the admin API with the admin token", async () => {
    await origins(echoOrigin);
    const denied = await edge("/_edge/admin/pool");
    expect(denied.status).toBe(401);
    expect(await denied.json()).toMatchObject({ error: "unauthorized" });
    const wrong = await edge("/_edge/admin/pool", { headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    const ok = await edge("/_edge/admin/pool", { headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } });
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { pools: Array<{ name: string; origins: Array<{ id: string; healthy: boolean }> }> };
    expect(body.pools[0]?.origins.map((o) => [o.id, o.healthy])).toEqual([
      ["o1", true],
      ["o2", true],
      ["o3", true],
    ]);
  });
});

describe("S requests", () => {
  it("answers 503 with Retry-After when no origin is healthy", async () => {
    vi.spyOn(globalThis, "fetch").mockRejectedValue(new TypeError("connect ECONNREFUSED"));
    await settle();
    const res = await edge("/session", { method: "POST" });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    expect(await res.json()).toMatchObject({ error: "no_origin_available" });
  });

  it("places the session, and hands out the token as cookie and header", async () => {
    await origins(echoOrigin);
    const res = await edge("/session", { method: "POST", body: "{}", headers: { "content-length": "2" } });
    expect(res.status).toBe(200);
    const origin = res.headers.get("x-origin-id");
    expect(await res.text()).toBe(`hello from ${origin}`);
    const token = res.headers.get("x-affinity-token");
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(res.headers.get("set-cookie")).toBe(`pe_affinity=${token}; Path=/; Max-Age=86400; HttpOnly; SameSite=Lax`);
  });

  it("marks the cookie Secure and SameSite=None over https", async () => {
    await origins(echoOrigin);
    const res = await exports.default.fetch(new Request("https://push.example.com/session", { method: "POST" }));
    expect(res.headers.get("set-cookie")).toMatch(/; HttpOnly; SameSite=None; Secure$/);
  });

  it("re-places an S request whose origin cannot be reached", async () => {
    await origins((id) => {
      if (id !== "o3") throw new TypeError("connect ECONNREFUSED");
      return echoOrigin(id, new Request(EDGE));
    });
    const res = await edge("/session", { method: "POST" });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-origin-id")).toBe("o3");
  });

  it("counts concurrent S requests against each other, so a burst never overfills an origin", async () => {
    // Each origin has room for 8 more sessions than it holds (earlier tests in this file
    // leave some); 24 S requests arrive together and the origins answer only once all 24
    // have been placed — a reconnect storm after a drain. Counted only after the origin
    // answered, all 24 would see the same loads and P2C would overfill some origins.
    const BURST = 24;
    const ROOM = 8;
    await origins(echoOrigin);
    const before = (await (
      await edge("/_edge/admin/pool", { headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } })
    ).json()) as { pools: Array<{ origins: Array<{ id: string; sessions: number }> }> };
    const held = new Map(before.pools[0]?.origins.map((o) => [o.id, o.sessions]));
    let release!: () => void;
    const allPlaced = new Promise<void>((done) => (release = done));
    let arrived = 0;
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const req = new Request(input, init);
      const url = new URL(req.url);
      const id = ORIGIN_PORTS[url.port] ?? "unknown";
      if (url.pathname === "/health") {
        // The origin reports what it holds: placement reconciles the edge's count with it.
        return Response.json({ id, state: "active", sessions: held.get(id) ?? 0, capacity: (held.get(id) ?? 0) + ROOM });
      }
      if (++arrived === BURST) release();
      await allPlaced;
      return echoOrigin(id, req);
    });
    await settle();
    resetPoolViews();
    const answers = await Promise.all(Array.from({ length: BURST }, () => edge("/session", { method: "POST" })));
    expect(answers.map((r) => r.status)).toEqual(Array(BURST).fill(200));
    const placedOn = answers.map((r) => r.headers.get("x-origin-id"));
    expect(["o1", "o2", "o3"].map((id) => placedOn.filter((o) => o === id).length)).toEqual([ROOM, ROOM, ROOM]);
  });
});

describe("S requests after a quiet spell", () => {
  it("do not place with a snapshot older than SNAPSHOT_EXPIRED_MS: an origin blocked meanwhile gets none", async () => {
    await origins(echoOrigin);
    const admin = { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" };
    const setState = async (id: string, state: string) => {
      const res = await edge(`/_edge/admin/pools/default/origins/${id}/state`, { method: "POST", headers: admin, body: JSON.stringify({ state }) });
      expect(res.status).toBe(200);
    };
    try {
      const first = await edge("/session", { method: "POST" });
      expect(first.status).toBe(200); // this isolate now holds a snapshot with all three active
      await setState("o1", "block");
      await setState("o2", "block");
      const realNow = Date.now.bind(Date);
      let skew = 0;
      vi.spyOn(Date, "now").mockImplementation(() => realNow() + skew);
      // Each round: time passes with no S request, then one arrives; only o3 may take it.
      for (let round = 1; round <= 3; round++) {
        skew += SNAPSHOT_EXPIRED_MS + 1_000;
        const res = await edge("/session", { method: "POST" });
        expect(res.status).toBe(200);
        expect(res.headers.get("x-origin-id")).toBe("o3");
      }
    } finally {
      vi.restoreAllMocks(); // Date.now first, then the origins are made active again
      await origins(echoOrigin);
      await setState("o1", "active");
      await setState("o2", "active");
    }
  });
});

describe("CR requests", () => {
  async function session(): Promise<{ token: string; origin: string }> {
    const res = await edge("/session", { method: "POST" });
    await res.text();
    const token = res.headers.get("x-affinity-token");
    const origin = res.headers.get("x-origin-id");
    if (token === null || origin === null) throw new Error("no session");
    return { token, origin };
  }

  it("reach the session's origin by header, query and cookie, with carriers stripped", async () => {
    await origins(echoOrigin);
    const { token, origin } = await session();
    const carriers: RequestInit[] = [{ headers: { "x-affinity-token": token } }, {}, { headers: { cookie: `pe_affinity=${token}; a=b` } }];
    for (const [i, init] of carriers.entries()) {
      const path = i === 1 ? `/session/x/control?affinity=${token}` : "/session/x/control";
      const res = await edge(path, { ...init, method: "POST" });
      expect(res.headers.get("x-origin-id")).toBe(origin);
      await res.text();
    }
    const relayed = requestsTo.slice(1);
    expect(relayed.map((r) => r.origin)).toEqual([origin, origin, origin]);
    expect(relayed.map((r) => r.path)).toEqual(["/session/x/control", "/session/x/control", "/session/x/control"]);
    for (const r of relayed) {
      expect(r.headers.get("x-affinity-token")).toBeNull();
      expect(r.headers.get("cookie") ?? "").not.toContain("pe_affinity");
    }
  });

  it("pass a query without carriers to the origin byte for byte, S and CR", async () => {
    await origins(echoOrigin);
    const query = "?a=b%20c&d=~%27&e";
    const created = await edge(`/session${query}`, { method: "POST" });
    const token = created.headers.get("x-affinity-token");
    await created.text();
    if (token === null) throw new Error("no session");
    const res = await edge(`/session/x/control${query}`, { method: "POST", headers: { "x-affinity-token": token } });
    await res.text();
    expect(requestsTo.map((r) => r.path)).toEqual([`/session${query}`, `/session/x/control${query}`]);
  });

  it("refuse a tampered token with 401 JSON before reaching any origin", async () => {
    await origins(echoOrigin);
    const { token } = await session();
    const tampered = token.slice(0, -2) + (token.endsWith("AA") ? "BB" : "AA");
    const res = await edge("/session/x/control", { method: "POST", headers: { "x-affinity-token": tampered } });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: "token_invalid" });
    expect(requestsTo).toHaveLength(1); // the S request only
  });

  it("refuse an expired token with 401 and a foreign pool's token with 403", async () => {
    await origins(echoOrigin);
    const keys = resolveKeyRing(env);
    const past = Math.floor(Date.now() / 1000) - 7200;
    const expired = await mintAffinityToken(keys, { sk: "s", origin: "o1", pool: "default", ttlSeconds: 60, now: past });
    const foreign = await mintAffinityToken(keys, { sk: "s", origin: "o1", pool: "elsewhere", ttlSeconds: 60 });
    const a = await edge("/x", { headers: { "x-affinity-token": expired.token } });
    expect(a.status).toBe(401);
    expect(await a.json()).toMatchObject({ error: "token_expired" });
    const b = await edge("/x", { headers: { "x-affinity-token": foreign.token } });
    expect(b.status).toBe(403);
    expect(await b.json()).toMatchObject({ error: "token_wrong_pool" });
    expect(requestsTo).toHaveLength(0);
  });

  it("remove the cookie when its token is refused or its session is gone, so the next request is S", async () => {
    await origins(echoOrigin);
    const { token } = await session();
    const cleared = "pe_affinity=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax";
    const tampered = await edge("/x", { headers: { cookie: `pe_affinity=${token}x` } });
    expect(tampered.status).toBe(401);
    expect(tampered.headers.get("set-cookie")).toBe(cleared);

    const keys = resolveKeyRing(env);
    const orphan = await mintAffinityToken(keys, { sk: crypto.randomUUID(), origin: "o1", pool: "default", ttlSeconds: 60 });
    const gone = await edge("/x", { headers: { cookie: `pe_affinity=${orphan.token}` } });
    expect(gone.status).toBe(404);
    expect(await gone.json()).toMatchObject({ error: "session_not_found" });
    expect(gone.headers.get("set-cookie")).toBe(cleared);
    expect(gone.headers.get("x-push-edge-failure")).toBeNull();

    // A token sent explicitly is the client's to drop; no cookie is touched.
    const explicit = await edge("/x", { headers: { "x-affinity-token": orphan.token } });
    expect(explicit.status).toBe(404);
    expect(explicit.headers.get("set-cookie")).toBeNull();
    // And an origin's own 404 is just an answer, not the end of the session.
    await origins(() => new Response("no such page", { status: 404 }));
    const own = await edge("/missing", { headers: { cookie: `pe_affinity=${token}` } });
    expect(own.status).toBe(404);
    expect(await own.text()).toBe("no such page");
    expect(own.headers.get("set-cookie")).toBeNull();
  });

  it("answer 502 when the session's origin is gone, without re-pinning", async () => {
    await origins(echoOrigin);
    const { token, origin } = await session();
    await origins((id) => {
      if (id === origin) throw new TypeError("connect ECONNREFUSED");
      return echoOrigin(id, new Request(EDGE));
    });
    const res = await edge("/session/x/control", { headers: { "x-affinity-token": token } });
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ error: "origin_unreachable" });
    expect(requestsTo.slice(1).map((r) => r.origin)).toEqual([origin]);
  });
});
