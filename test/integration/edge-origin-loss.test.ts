/**
 * When a session's origin goes away, its CR requests get 502 origin_unreachable and are
 * never re-pinned to another origin; new sessions go to the origins that remain.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningStack } from "../../infra/local/stack.ts";
import { httpJson, openWebSocket, type WsClient } from "./support/http-clients.ts";
import { inBatches, originRequests, testStack } from "./support/stack.ts";

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
      const ws = await openWebSocket(`${stack.edgeUrl.replace(/^http/, "ws")}/ws?announce_affinity=1`);
      const token = String((await ws.nextJson()).token);
      const hello = await ws.nextJson();
      const origin = String(hello.origin);
      if (byOrigin.has(origin)) {
        ws.ws.close(1000);
        await ws.closed();
      } else byOrigin.set(origin, { id: String(hello.session), token, ws });
    }
    expect(byOrigin.size).toBe(3);

    const victim = stack.processes.find((p) => p.id === "o2");
    const lost = byOrigin.get("o2");
    if (victim === undefined || lost === undefined) throw new Error("no o2");
    await victim.stop();

    // The open WebSocket learns the origin went away, with the origin's own close code.
    const closed = await lost.ws.closed();
    expect([1001, 1011]).toContain(closed.code);

    const res = await httpJson(`${stack.edgeUrl}/session/${lost.id}/control`, {
      method: "POST",
      headers: { "x-affinity-token": lost.token },
      body: { cmd: "echo" },
    });
    expect(res.status).toBe(502);
    expect(res.body).toEqual({ error: "origin_unreachable", message: expect.any(String) });
    const logs = await originRequests({ ...stack, origins: stack.origins.filter((o) => o.id !== "o2") });
    for (const [, entries] of logs) expect(entries.some((e) => e.path.includes(lost.id))).toBe(false);

    // New sessions all succeed, on the origins that are left.
    const placed = await inBatches(
      Array.from({ length: 20 }, (_, i) => i),
      5,
      async () => {
        const r = await httpJson(`${stack.edgeUrl}/session`, { method: "POST" });
        expect(r.status).toBe(201);
        return r.headers["x-origin-id"];
      },
    );
    expect(new Set(placed)).toEqual(new Set(["o1", "o3"]));

    // Sessions on the surviving origins are untouched.
    for (const id of ["o1", "o3"]) {
      const s = byOrigin.get(id);
      if (s === undefined) throw new Error(`no ${id}`);
      const ok = await httpJson(`${stack.edgeUrl}/session/${s.id}/control`, {
        method: "POST",
        headers: { "x-affinity-token": s.token },
        body: { cmd: "emit", data: "still here" },
      });
      expect(ok.headers["x-origin-id"]).toBe(id);
      expect(await s.ws.nextJson()).toMatchObject({ type: "emit", origin: id, data: "still here" });
      s.ws.ws.close(1000);
      await s.ws.closed();
    }
  });
});
