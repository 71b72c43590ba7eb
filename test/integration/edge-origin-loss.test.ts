/**
 * When a session's origin goes away, its CR requests get 502 origin_unreachable and are
 * never re-pinned to another origin; new sessions go to the origins that remain.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningStack } from "../../infra/local/stack.ts";
import { WsClient, inBatches, originRequests, testStack } from "./stack-fixture.ts";

let stack: RunningStack;

beforeAll(async () => {
  stack = await testStack({ originCount: 3, originArgs: ["--interval-ms", "0"] });
});
afterAll(async () => {
  await stack?.close();
});

describe("origin loss", () => {
  it("tells the session's clients, never re-pins them, and places new sessions elsewhere", async () => {
    // Sessions until every origin has one, with a WebSocket open on each.
    const byOrigin = new Map<string, { id: string; token: string; ws: WsClient }>();
    for (let i = 0; i < 60 && byOrigin.size < 3; i++) {
      const ws = new WsClient(`${stack.edgeUrl.replace(/^http/, "ws")}/ws?announce_affinity=1`);
      await ws.opened();
      const token = String((await ws.json()).token);
      const hello = await ws.json();
      const origin = String(hello.origin);
      if (byOrigin.has(origin)) await ws.close();
      else byOrigin.set(origin, { id: String(hello.session), token, ws });
    }
    expect(byOrigin.size).toBe(3);

    const victim = stack.processes.find((p) => p.id === "o2");
    const lost = byOrigin.get("o2");
    if (victim === undefined || lost === undefined) throw new Error("no o2");
    await victim.stop();

    // The open WebSocket learns the origin went away, with the origin's own close code.
    const closed = await lost.ws.closed;
    expect([1001, 1011]).toContain(closed.code);

    const res = await fetch(`${stack.edgeUrl}/session/${lost.id}/control`, {
      method: "POST",
      headers: { "x-affinity-token": lost.token, "content-type": "application/json" },
      body: JSON.stringify({ cmd: "echo" }),
    });
    expect(res.status).toBe(502);
    expect(await res.json()).toEqual({ error: "origin_unreachable", message: expect.any(String) });
    const logs = await originRequests({ ...stack, origins: stack.origins.filter((o) => o.id !== "o2") });
    for (const [, entries] of logs) expect(entries.some((e) => e.path.includes(lost.id))).toBe(false);

    // New sessions all succeed, on the origins that are left.
    const placed = await inBatches(
      Array.from({ length: 20 }, (_, i) => i),
      5,
      async () => {
        const r = await fetch(`${stack.edgeUrl}/session`, { method: "POST" });
        expect(r.status).toBe(201);
        await r.text();
        return r.headers.get("x-origin-id");
      },
    );
    expect(new Set(placed)).toEqual(new Set(["o1", "o3"]));

    // Sessions on the surviving origins are untouched.
    for (const id of ["o1", "o3"]) {
      const s = byOrigin.get(id);
      if (s === undefined) throw new Error(`no ${id}`);
      const ok = await fetch(`${stack.edgeUrl}/session/${s.id}/control`, {
        method: "POST",
        headers: { "x-affinity-token": s.token, "content-type": "application/json" },
        body: JSON.stringify({ cmd: "emit", data: "still here" }),
      });
      expect(ok.headers.get("x-origin-id")).toBe(id);
      expect(await s.ws.json()).toMatchObject({ type: "emit", origin: id, data: "still here" });
      await s.ws.close();
    }
  });
});
