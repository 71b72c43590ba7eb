/**
 * An origin that restarts loses its in-memory sessions. Its health answer names the run
 * of the process (`instance`); when that changes, the pool coordinator ends the sessions
 * registered on the earlier run, so they stop counting as the origin's load (rebalancing
 * would otherwise see a full origin that is in fact empty) and attached clients are told.
 */
import { env, exports } from "cloudflare:workers";
import { runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { coordinatorStub } from "../../durable-objects/pool/stub.ts";
import { sessionStub } from "../../durable-objects/session/stub.ts";
import { resetPoolViews } from "../../workers/edge/balance/pool-view.ts";
import { eventually } from "./support/session-harness.ts";

// wrangler.toml's pool: o1..o3 on 127.0.0.1:9001..9003, played by the fake below.
const ORIGIN_PORTS: Record<string, string> = { "9001": "o1", "9002": "o2", "9003": "o3" };
const instances: Record<string, string> = { o1: "run-1", o2: "run-1", o3: "run-1" };

function fakeOrigins(): void {
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    const id = ORIGIN_PORTS[url.port] ?? "unknown";
    if (url.pathname === "/health") return Response.json({ id, instance: instances[id], state: "active", sessions: 0, capacity: 1000 });
    return new Response("{}", { status: 201, headers: { "x-origin-id": id } });
  });
}

const healthRound = () => runDurableObjectAlarm(coordinatorStub(env, "default"));

async function poolSessions(): Promise<Record<string, number>> {
  const res = await exports.default.fetch(
    new Request("http://push.example.com/_edge/admin/pool", { headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } }),
  );
  const body = (await res.json()) as { pools: Array<{ origins: Array<{ id: string; sessions: number }> }> };
  return Object.fromEntries((body.pools[0]?.origins ?? []).map((o) => [o.id, o.sessions]));
}

/** Creates `n` sessions through the edge; returns their keys by origin. */
async function createSessions(n: number): Promise<Map<string, string[]>> {
  const byOrigin = new Map<string, string[]>();
  for (let i = 0; i < n; i++) {
    const res = await exports.default.fetch(new Request("http://push.example.com/session", { method: "POST" }));
    expect(res.status).toBe(201);
    await res.text();
    const origin = res.headers.get("x-origin-id") ?? "";
    const token = res.headers.get("x-affinity-token") ?? "";
    const sk = (JSON.parse(atob(token.split(".")[1]?.replace(/-/g, "+").replace(/_/g, "/") ?? "")) as { sk: string }).sk;
    byOrigin.set(origin, [...(byOrigin.get(origin) ?? []), sk]);
  }
  return byOrigin;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("an origin restart", () => {
  it("ends the sessions of the earlier run (told, unregistered) and leaves everything else alone", async () => {
    fakeOrigins();
    resetPoolViews();
    await healthRound();
    const before = await createSessions(30);
    // "Registered before the old run was last seen alive" is `created_at <` the last check's
    // time, in whole milliseconds, and workerd's clock moves only between events: a round
    // in the same millisecond as the last S would leave that session to the new run. Let
    // the clock move first, as it always has in a real pool (rounds are seconds apart).
    await new Promise((resolve) => setTimeout(resolve, 5));
    const total = (await eventually(async () => {
      const counts = await (healthRound().then(poolSessions));
      const sum = Object.values(counts).reduce((a, b) => a + b, 0);
      return sum === 30 ? counts : undefined;
    }, "all 30 sessions registered"));
    const lost = before.get("o1") ?? [];
    expect(lost.length).toBeGreaterThan(0);
    expect(total.o1).toBe(lost.length);

    // o1 restarts between two health rounds; a session placed after that round is the new run's.
    instances.o1 = "run-2";
    await healthRound();
    resetPoolViews();
    const after = await createSessions(15);
    // The count that round took, after ending the old run's sessions: none left.
    expect((await poolSessions()).o1).toBe(0);

    for (const sk of lost) {
      const view = await sessionStub(env, sk).describe();
      expect(view.record?.state).toBe("ended");
      expect(view.record?.endedReason).toBe("origin_restarted");
    }
    for (const origin of ["o2", "o3"]) {
      for (const sk of before.get(origin) ?? []) expect((await sessionStub(env, sk).describe()).record?.state).toBe("active");
    }
    // Sessions placed on the new run live on, and count again.
    const newOnO1 = after.get("o1") ?? [];
    for (const sk of newOnO1) expect((await sessionStub(env, sk).describe()).record?.state).toBe("active");
    await eventually(async () => ((await healthRound().then(poolSessions)).o1 === newOnO1.length ? true : undefined), "o1 counts only the new run's sessions");
  });

  it("is not seen when the origin names the same instance again", async () => {
    fakeOrigins();
    resetPoolViews();
    await healthRound();
    const created = await createSessions(6);
    await healthRound();
    await healthRound();
    for (const keys of created.values()) {
      // The reason is in the comparison, so a failure says what ended the session.
      for (const sk of keys) expect((await sessionStub(env, sk).describe()).record).toMatchObject({ state: "active", endedReason: null });
    }
  });
});
