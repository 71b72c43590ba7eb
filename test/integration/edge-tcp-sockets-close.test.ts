// The `tcp` transport closes its origin connections from inside Durable Objects: a real
// edge in workerd reaches PROXY-only reference origins over `connect()`, makes sessions
// (each S a connection from its session object) and health-checks them (connections from
// the pool's coordinator object); afterwards none of workerd's sockets to the origins is
// left in CLOSE_WAIT (the origin hung up and workerd never closed its side), and the new
// session objects go to sleep. Before the fix, 20 S requests left 21 such sockets per
// origin after ~20 s and more with every health round, and no session object slept.

import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTcpStack } from "../../bench/lib/tcp-stack.ts";
import { childPids } from "../../bench/lib/procs.ts";
import { openDatabases, settleObjects } from "../../bench/lib/object-settle.ts";
import type { RunningStack } from "../../infra/local/stack.ts";

let stack: RunningStack;
let pids: number[] = [];

beforeAll(async () => {
  const before = new Set(childPids("workerd"));
  stack = await startTcpStack({ port: 0, originBasePort: 0, originCount: 2, originArgs: ["--capacity", "100000"], prebuilt: true, log: () => {} });
  pids = childPids("workerd").filter((p) => !before.has(p));
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

/** workerd's TCP sockets to `ports`, by state (/proc/net/tcp's hex codes; 08 = CLOSE_WAIT). */
function socketStates(ports: ReadonlySet<number>): Record<string, number> {
  const inodes = new Set<string>();
  for (const pid of pids) {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m !== null) inodes.add(m[1]!);
      } catch {
        // Closed while we looked.
      }
    }
  }
  const states: Record<string, number> = {};
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of readFileSync(table, "utf8").split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || !inodes.has(cols[9]!)) continue;
      const remotePort = parseInt(cols[2]!.split(":")[1]!, 16);
      if (ports.has(remotePort)) states[cols[3]!] = (states[cols[3]!] ?? 0) + 1;
    }
  }
  return states;
}

describe("tcp transport: origin connections are closed", () => {
  it("leaves no socket in CLOSE_WAIT after S requests and health rounds, and its session objects go to sleep", async () => {
    expect(pids).toHaveLength(1);
    const ports = new Set(stack.origins.map((o) => Number(new URL(o.url).port)));
    // One S wakes the pool (its coordinator starts the health rounds); wait for the objects
    // that stay awake to be open, then count from there.
    const first = await fetch(`${stack.edgeUrl}/session`, { method: "POST" });
    await first.arrayBuffer();
    expect(first.status).toBe(201);
    await new Promise((r) => setTimeout(r, 2_000));
    const awake = openDatabases(pids);
    expect(awake).toBeDefined();

    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${stack.edgeUrl}/session`, { method: "POST" });
      await res.arrayBuffer();
      expect(res.status).toBe(201);
    }
    expect(openDatabases(pids)).toBeGreaterThanOrEqual(awake! + 10);

    const settled = await settleObjects(() => openDatabases(pids), awake!, 40_000);
    expect(settled.settled).toBe(true);
    // Health rounds ran all the while (every few seconds per origin).
    expect(socketStates(ports)["08"] ?? 0).toBe(0);
  }, 90_000);
});
