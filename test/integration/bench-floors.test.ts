// The bench's platform floors, for real: the two minimal Workers (bench/floors/) built
// offline and run in their own workerd in front of two reference origins. Echoes come
// back, CR requests reach the origin that made their session (a wrong origin answers
// 404, counted as an error), each S request through floor-object makes a new object that
// keeps its origin, and the balance scenarios leave the floors' columns empty.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOriginProcess, type OriginProcess } from "../../infra/local/origin-process.ts";
import { startFloor, type RunningFloor } from "../../bench/lib/floor-runner.ts";
import type { TargetResult } from "../../bench/scenario.ts";
import { crRequests } from "../../bench/scenarios/cr-requests.ts";
import { natBalance } from "../../bench/scenarios/nat-balance.ts";
import { sessionCreate } from "../../bench/scenarios/session-create.ts";
import { wsEcho, WS_ECHO_PARAMS } from "../../bench/scenarios/ws-echo.ts";
import { floorTarget } from "../../bench/targets/floors.ts";

const origins: OriginProcess[] = [];
const floors: RunningFloor[] = [];

beforeAll(async () => {
  for (let i = 1; i <= 2; i++) origins.push(await startOriginProcess(`o${i}`, ["--listen", "combined=127.0.0.1:0", "--capacity", "100000"]));
  for (const kind of ["worker", "object"] as const) floors.push(await startFloor(kind, origins.map((o) => ({ id: o.id, url: o.url }))));
}, 120_000);

afterAll(async () => {
  await Promise.all(floors.map((f) => f.close()));
  await Promise.all(origins.map((o) => o.stop()));
});

function metric(result: TargetResult, key: string) {
  const m = result.metrics.find((x) => x.key === key);
  if (m === undefined) throw new Error(`no metric ${key} in ${JSON.stringify(result)}`);
  return m;
}

describe.each(["worker", "object"] as const)("floor-%s", (kind) => {
  const target = () => {
    const floor = floors.find((f) => f.kind === kind);
    if (floor === undefined) throw new Error(`floor-${kind} did not start`);
    return floorTarget(floor);
  };

  it("runs in a workerd of its own", () => {
    expect(target().pids?.().length).toBe(1);
  });

  it("ws-echo (quick): every echo comes back through the floor's piped WebSocket pair", async () => {
    const result = await wsEcho.prepare("quick").run(target(), () => {});
    expect(result.errors).toEqual([]);
    const rtt = metric(result, "rtt");
    expect(rtt.kind === "latency" && rtt.summary.count).toBe(WS_ECHO_PARAMS.quick.messages);
  });

  it("cr-requests (quick): CR requests reach the origin that made the session", async () => {
    const result = await crRequests.prepare("quick").run(target(), () => {});
    expect(result.errors).toEqual([]);
    const rate = metric(result, "rate");
    expect(rate.kind === "rate" && rate.value).toBeGreaterThan(0);
  });

  it("session-create (quick): every S request is answered with its affinity", async () => {
    const result = await sessionCreate.prepare("quick").run(target(), () => {});
    expect(result.errors).toEqual([]);
    const rate = metric(result, "rate");
    expect(rate.kind === "rate" && rate.value).toBeGreaterThan(0);
  });

  it("balance scenarios leave the floor's column empty (a floor is not a balancer)", async () => {
    const result = await natBalance.prepare("quick").run(target(), () => {});
    expect(result.metrics).toEqual([]);
  });
});

describe("floor-object", () => {
  it("makes a new object per S request and relays its CR requests to the origin the object's row names", async () => {
    const floor = floors.find((f) => f.kind === "object");
    if (floor === undefined) throw new Error("floor-object did not start");
    const names = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const created = await fetch(`${floor.url}/session`, { method: "POST", signal: AbortSignal.timeout(5_000) });
      expect(created.status).toBe(201);
      const body = (await created.json()) as { id: string; origin: string };
      const object = created.headers.get("x-floor-object") ?? "";
      names.add(object);
      const cr = await fetch(`${floor.url}/session/${body.id}`, { headers: { "x-floor-object": object }, signal: AbortSignal.timeout(5_000) });
      expect(cr.status).toBe(200);
      expect(cr.headers.get("x-origin-id")).toBe(body.origin);
    }
    expect(names.size).toBe(4);
  });
});
