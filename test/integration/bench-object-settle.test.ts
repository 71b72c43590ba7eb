// The bench's wait for a hop's objects to go to sleep between measurements
// (bench/lib/object-settle.ts): against floor-object in its own workerd, S requests open
// one SQLite database per new object, and the wait ends once workerd has closed them; its
// end at the baseline and at its bound, on a scripted count.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOriginProcess, type OriginProcess } from "../../infra/local/origin-process.ts";
import { startFloor, type RunningFloor } from "../../bench/lib/floor-runner.ts";
import { openDatabases, settleObjects } from "../../bench/lib/object-settle.ts";

let origin: OriginProcess;
let floor: RunningFloor;

beforeAll(async () => {
  origin = await startOriginProcess("o1", ["--listen", "combined=127.0.0.1:0", "--capacity", "100000"]);
  floor = await startFloor("object", [{ id: origin.id, url: origin.url }]);
}, 120_000);

afterAll(async () => {
  await floor?.close();
  await origin?.stop();
});

describe("settleObjects", () => {
  it("waits until workerd has closed the databases of the objects S requests made", async () => {
    const pids = [...floor.pids];
    const baseline = openDatabases(pids);
    expect(baseline).toBeDefined();
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${floor.url}/session`, { method: "POST" });
      await res.arrayBuffer();
      expect(res.status).toBe(201);
    }
    expect(openDatabases(pids)).toBe(baseline! + 10);

    const settled = await settleObjects(() => openDatabases(pids), baseline!, 60_000);
    expect(settled).toMatchObject({ settled: true, closed: 10, awake: 0 });
    expect(openDatabases(pids)).toBe(baseline);
  }, 90_000);

  it("returns at once when nothing was opened", async () => {
    expect(await settleObjects(() => 3, 3, 60_000)).toEqual({ closed: 0, awake: 0, waitedMs: 0, settled: true });
  });

  it("ends the wait as soon as the count is back at the baseline", async () => {
    const counts = [5, 5, 3, 1, 4];
    let i = 0;
    const settled = await settleObjects(() => counts[i++], 1, 60_000, 10);
    expect(settled).toMatchObject({ settled: true, closed: 4, awake: 0 });
    expect(i).toBe(4);
  });

  it("stops at its bound when nothing closes, and says it did not settle", async () => {
    const settled = await settleObjects(() => 4, 1, 100, 10);
    expect(settled).toMatchObject({ settled: false, closed: 0, awake: 3 });
    expect(settled.waitedMs).toBeGreaterThanOrEqual(100);
  });
});
