// `npm run cost -- --quick`, for real: a fresh local stack per relay mode, the reference
// session through it, figures out. Asserts that every figure printed was measured or
// counted (no made-up values): the client's requests and messages, workerd's CPU, and the
// session object's and hub's own counts (object mode: awake all session; edge mode: asleep
// through the steady phase). Without counts the model prints a reason and no Durable
// Object dollars at all (checked on the model below). The model's arithmetic is
// checked against the issue's own example (an object pinned for an hour ≈ $0.0058).

import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../infra/local/edge.ts";
import { NO_ACTIVITY, sessionCounts } from "../../bench/cost/activity.ts";
import { dollars, sessionHour } from "../../bench/cost/model.ts";
import type { ReferenceRun } from "../../bench/cost/reference-session.ts";
import type { ModeResult } from "../../bench/cost/report.ts";

const run = promisify(execFile);

describe("npm run cost -- --quick", () => {
  it("measures the reference session in each relay mode and invents nothing", async () => {
    const { stdout } = await run(process.execPath, [join(REPO_ROOT, "bench", "cost", "run.ts"), "--quick", "--json", "--no-save", "--prebuilt"], {
      cwd: REPO_ROOT,
      timeout: 400_000,
      maxBuffer: 4 * 1024 * 1024,
    });
    const out = JSON.parse(stdout) as { params: { steadyS: number; crRequests: number }; results: ModeResult[] };
    expect(out.results.map((r) => r.mode)).toEqual(["edge", "object"]);

    const edge = out.results[0];
    if (edge === undefined) throw new Error("no edge result");
    // The default mode always runs: one message a second each way, for the whole phase.
    expect(edge.unavailable).toBeUndefined();
    expect(edge.measured?.messagesEachWay).toBeGreaterThanOrEqual(out.params.steadyS - 2);
    expect(edge.hour?.workerRequests).toBe(2 + out.params.crRequests);
    expect(edge.hour?.workerCpuMsUpper).toBeGreaterThan(0);
    expect(edge.hour?.messagesEachWay).toBeGreaterThan(3000);

    for (const r of out.results) {
      // Both relay modes run, and the objects' own counts are in the admin views.
      expect(r.unavailable).toBeUndefined();
      expect(r.hour?.objectsMissing).toBeUndefined();
      const objects = r.hour?.objects;
      if (objects === undefined) throw new Error(`${r.mode}: no object counts`);
      // Counted by the objects: the session's S, WebSocket and CR requests reached it.
      expect(objects.requests).toBeGreaterThanOrEqual(2 + out.params.crRequests);
      expect(objects.awakeS).toBeGreaterThan(0);
      expect(objects.awakeS).toBeLessThanOrEqual(3600 * 1.05);
      if (r.mode === "object") {
        // Every byte through the object: it is awake for (most of) the whole session, never asleep.
        expect(objects.awakeS).toBeGreaterThan(3600 * 0.7);
        expect(objects.wakes).toBe(0);
      } else {
        // The legs are pumped by the Worker: the object sleeps through the steady phase; the
        // isolate's hub (the control path) is counted with it.
        expect(objects.awakeS).toBeLessThan(60);
        expect(objects.withHub).toBe(true);
      }
      expect(r.dollars?.total).toBeGreaterThan(0);
    }
  }, 420_000);
});

describe("cost model", () => {
  const pinned: ReferenceRun = {
    sk: "s",
    idle: { ms: 10_000, cpuMs: 100 },
    setup: { ms: 1_000, cpuMs: 30, workerRequests: 6, crRequests: 4, bytes: 1_000 },
    steady: { ms: 60_000, cpuMs: 1_200, messagesEachWay: 60, bytes: 7_680, failures: [] },
    // Each read added its own request (`own`); the second also woke the object.
    activityAfterSetup: { ok: true, session: { totals: { wakes: 0, activeMs: 1_000, requests: 7, webSocketMessages: 0 }, own: { ...NO_ACTIVITY, requests: 1 } }, hub: undefined, hubIsolates: [] },
    activityAfterSteady: {
      ok: true,
      session: { totals: { wakes: 1, activeMs: 61_000, requests: 8, webSocketMessages: 120 }, own: { ...NO_ACTIVITY, requests: 1, wakes: 1 } },
      hub: undefined,
      hubIsolates: [],
    },
  };

  it("scales the steady phase to an hour, counts the one-time part once, and leaves out the reads' own requests and wakes", () => {
    const h = sessionHour(pinned);
    expect(h.workerRequests).toBe(6);
    expect(h.messagesEachWay).toBeCloseTo(3600);
    expect(h.workerCpuMsUpper).toBeCloseTo(30 + 1_200 * 60);
    // Idle rate 10 ms/s: setup 30 − 10, steady (1,200 − 600) × 60.
    expect(h.workerCpuMsNet).toBeCloseTo(20 + 600 * 60);
    expect(h.objects?.awakeS).toBeCloseTo(1 + 3600);
    expect(h.objects?.requests).toBeCloseTo(6);
    expect(h.objects?.wakes).toBeCloseTo(0);
    expect(h.objects?.billedRequests).toBeCloseTo(6 + (120 * 60) / 20);
  });

  it("prices an object awake for an hour at the issue's ≈ $0.0058", () => {
    const d = dollars(sessionHour(pinned), 3);
    expect(d.objectDuration).toBeCloseTo(3601 * 0.128 * 12.5e-6, 8);
    expect(d.objectDuration).toBeGreaterThan(0.0057);
    expect(d.objectDuration).toBeLessThan(0.0059);
    // ALB: the highest LCU dimension — here the bytes (0.46 MB of 1 GB an LCU-hour) over one
    // held connection (1/3,000) — at $0.008 per LCU-hour, plus $0.0225/h shared by 10,000.
    const bytes = 1_000 + 7_680 * 60;
    expect(d.alb.lcu).toBeCloseTo(Math.max(6 / 3600 / 25, 1 / 3000, bytes / 1e9), 12);
    expect(d.alb.total).toBeCloseTo((bytes / 1e9) * 0.008 + 0.0225 / 10_000, 12);
  });

  it("takes a hub's wake out when nothing but the read itself reached the hub", () => {
    const hubA = { totals: { wakes: 0, activeMs: 1, requests: 2, webSocketMessages: 1 }, own: { ...NO_ACTIVITY, requests: 1 } };
    const hubB = { totals: { wakes: 1, activeMs: 1, requests: 3, webSocketMessages: 1 }, own: { ...NO_ACTIVITY, requests: 1 } };
    const after = pinned.activityAfterSetup;
    const end = pinned.activityAfterSteady;
    if (!after.ok || !end.ok) throw new Error("fixture");
    const h = sessionHour({ ...pinned, activityAfterSetup: { ...after, hub: hubA }, activityAfterSteady: { ...end, hub: hubB } });
    expect(h.objects?.withHub).toBe(true);
    expect(h.objects?.wakes).toBeCloseTo(0);
    expect(h.objects?.requests).toBeCloseTo(6 + 1);
  });

  it("reports missing object counts instead of a figure", () => {
    const view = sessionCounts({ session: { sk: "s" }, openWebSockets: 1, events: [] }, 0);
    expect(view.ok).toBe(false);
    const read = view.ok ? { ok: false as const, reason: "" } : view;
    const h = sessionHour({ ...pinned, activityAfterSetup: read, activityAfterSteady: read });
    expect(h.objects).toBeUndefined();
    expect(h.objectsMissing).toMatch(/no `activity`/);
    expect(dollars(h, 3).total).toBeUndefined();
    expect(sessionCounts({ activity: { wakes: 1, activeMs: -1, requests: 0, webSocketMessages: 0 } }, 0).ok).toBe(false);
    // A read that woke the object says so (its `woke` event is at or after the read began).
    const woke = sessionCounts({ activity: NO_ACTIVITY, events: [{ kind: "woke", at: 2_000 }], legs: [{ isolate: "i1" }] }, 1_500);
    expect(woke.ok && woke.activity.own).toEqual({ ...NO_ACTIVITY, requests: 1, wakes: 1 });
    expect(woke.ok && woke.isolates).toEqual(["i1"]);
  });
});
