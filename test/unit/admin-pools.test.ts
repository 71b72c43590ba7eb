import { env, exports } from "cloudflare:workers";
import { runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { coordinatorStub } from "../../durable-objects/pool/stub.ts";
import { PoolView, resetPoolViews } from "../../workers/edge/balance/pool-view.ts";
import { resolveConfig } from "../../config/config.ts";

type OriginRow = { id: string; url: string; weight: number; state: string; healthy: boolean; drain: { rate: number } | null };
type PoolBody = { name: string; origins: OriginRow[] };

const ADMIN = { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" };
const admin = async (method: string, path: string, body?: unknown) =>
  exports.default.fetch(
    new Request(`http://push.example.com/_edge/admin${path}`, { method, headers: ADMIN, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }),
  );

beforeEach(() => {
  resetPoolViews();
  // Every origin answers its health check.
  vi.spyOn(globalThis, "fetch").mockImplementation(async () => Response.json({ state: "active", sessions: 0, capacity: 1000 }));
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe("admin API: origins at runtime", () => {
  it("adds, re-weights and removes an origin, persisted by the coordinator", async () => {
    const added = await admin("POST", "/pools/default/origins", { id: "o4", url: "http://127.0.0.1:9004", weight: 2 });
    expect(added.status).toBe(201);
    expect(((await added.json()) as PoolBody).origins.map((o) => o.id)).toEqual(["o1", "o2", "o3", "o4"]);

    const patched = await admin("PATCH", "/pools/default/origins/o4", { weight: 5 });
    expect(((await patched.json()) as PoolBody).origins.find((o) => o.id === "o4")?.weight).toBe(5);

    expect((await admin("DELETE", "/pools/default/origins/o4")).status).toBe(204);
    const view = (await (await admin("GET", "/pool")).json()) as { pools: PoolBody[] };
    expect(view.pools[0]?.origins.map((o) => o.id)).toEqual(["o1", "o2", "o3"]);
  });

  it("refuses bad input with an error naming the field, changing nothing", async () => {
    const bad = await admin("POST", "/pools/default/origins", { id: "o5", url: "ftp://nope" });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: "bad_request", message: expect.stringContaining("origin.url") });
    const dup = await admin("POST", "/pools/default/origins", { id: "o1", url: "http://127.0.0.1:9001" });
    expect(dup.status).toBe(409);
    const state = await admin("POST", "/pools/default/origins/o1/state", { state: "sleep" });
    expect(state.status).toBe(400);
    expect(await state.json()).toMatchObject({ message: expect.stringContaining("state") });
    expect((await admin("POST", "/pools/nope/origins", { id: "x", url: "http://h" })).status).toBe(404);
    expect((await admin("POST", "/pools/default/origins/zz/state", { state: "block" })).status).toBe(404);
  });

  it("drains and blocks: the origin leaves placement; active brings it back", async () => {
    const drained = await admin("POST", "/pools/default/origins/o2/state", { state: "drain", rate: 5 });
    const o2 = ((await drained.json()) as PoolBody).origins.find((o) => o.id === "o2");
    expect(o2).toMatchObject({ state: "draining", drain: { rate: 5 } });

    const config = resolveConfig(env).pools[0];
    if (config === undefined) throw new Error("no pool");
    const view = new PoolView(config);
    await view.refresh(coordinatorStub(env, "default"));
    expect(view.candidates(Date.now()).filter((c) => c.eligible).map((c) => c.id)).toEqual(["o1", "o3"]);

    await admin("POST", "/pools/default/origins/o2/state", { state: "block" });
    await admin("POST", "/pools/default/origins/o2/state", { state: "active" });
    await view.refresh(coordinatorStub(env, "default"));
    expect(view.candidates(Date.now()).filter((c) => c.eligible).map((c) => c.id)).toEqual(["o1", "o2", "o3"]);
  });

  it("places with a state change at once, and an older snapshot arriving later does not undo it", async () => {
    const config = resolveConfig(env).pools[0];
    if (config === undefined) throw new Error("no pool");
    const coordinator = coordinatorStub(env, "default");
    const view = new PoolView(config);
    await view.refresh(coordinator);
    const before = view.snapshot;
    if (before === undefined) throw new Error("no snapshot");
    // A refresh taken before the drain may land after it (it was in flight).
    await new Promise((r) => setTimeout(r, 5));
    const drained = await coordinator.setOriginState("o2", "draining", 5);
    if (drained === undefined) throw new Error("no origin o2");
    view.adopt(drained);
    view.adopt(before);
    expect(view.candidates(Date.now()).filter((c) => c.eligible).map((c) => c.id)).toEqual(["o1", "o3"]);
    await coordinator.setOriginState("o2", "active");
  });

  it("ramps a newly joined origin's weight up (slow start)", async () => {
    await admin("POST", "/pools/default/origins", { id: "o9", url: "http://127.0.0.1:9009" });
    const coordinator = coordinatorStub(env, "default");
    await runDurableObjectAlarm(coordinator);
    const config = resolveConfig(env).pools[0];
    if (config === undefined) throw new Error("no pool");
    const view = new PoolView(config);
    await view.refresh(coordinator);
    const now = Date.now();
    const weights = Object.fromEntries(view.candidates(now).map((c) => [c.id, c.weight]));
    // Default slow start is 10 s: just joined → ~10% of its weight.
    expect(weights.o9).toBeLessThan(0.2);
    const later = Object.fromEntries(view.candidates(now + 60_000).map((c) => [c.id, c.weight]));
    expect(later.o9).toBe(1);
  });
});
