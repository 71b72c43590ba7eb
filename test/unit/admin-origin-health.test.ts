/**
 * An origin added at runtime with its own health check: the override is validated against
 * its pool's settings, survives a later PATCH of another field, and the pool view says
 * which check it gets.
 */
import { env, exports } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { resetPoolViews } from "../../workers/edge/balance/pool-view.ts";

type OriginRow = { id: string; weight: number; check: string };
type PoolBody = { origins: OriginRow[] };

const ADMIN = { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" };
const admin = async (method: string, path: string, body?: unknown) =>
  exports.default.fetch(
    new Request(`http://push.example.com/_edge/admin${path}`, { method, headers: ADMIN, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }),
  );

beforeEach(() => {
  resetPoolViews();
  vi.spyOn(globalThis, "fetch").mockImplementation(async () => Response.json({ state: "active", sessions: 0, capacity: 1000 }));
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe("admin API: an origin's own health check", () => {
  it("keeps the override through a PATCH and shows the check in the pool view", async () => {
    const health = { type: "http", path: "/lightstreamer/healthcheck", expect: { body: "OK", status: "200-299" } };
    const added = await admin("POST", "/pools/default/origins", { id: "h1", url: "http://127.0.0.1:9011", health });
    expect(added.status).toBe(201);
    const patched = await admin("PATCH", "/pools/default/origins/h1", { weight: 3 });
    expect(patched.status).toBe(200);
    const row = ((await patched.json()) as PoolBody).origins.find((o) => o.id === "h1");
    expect(row?.weight).toBe(3);
    expect(row?.check).toMatch(/^http: GET \/lightstreamer\/healthcheck, expect 200-299 and body containing "OK" \(every \d+ ms/);
    expect((await admin("DELETE", "/pools/default/origins/h1")).status).toBe(204);
  });

  it("refuses an override that does not fit its pool, naming the field", async () => {
    const res = await admin("POST", "/pools/default/origins", { id: "h2", url: "http://127.0.0.1:9012", health: { timeoutMs: 600_000 } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "bad_request", message: "origin.health.timeoutMs: must be less than health.intervalMs" });
    const bad = await admin("POST", "/pools/default/origins", { id: "h3", url: "http://127.0.0.1:9013", health: { type: "ping" } });
    expect(await bad.json()).toMatchObject({ message: expect.stringContaining('origin.health.type: expected "http" | "tcp" | "none" | "probe"') });
  });
});
