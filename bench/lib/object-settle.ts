/**
 * Waiting for a hop's Durable Objects to go to sleep before its next measurement.
 *
 * Local workerd closes an idle object's SQLite database 10–20 s after its last request: a
 * WAL checkpoint, two fsyncs and two unlinks per object, on the runtime's one thread
 * (`strace -f -tt -e trace=fsync,unlinkat -p <workerd>`). A scenario that made a hundred
 * sessions at once has them all close together, 10–20 s later — about as long as one bench
 * round of a short scenario takes, so the burst landed inside the next measurement of that
 * hop: in four three-round `http-stream` runs (`npm run bench -- --scenario http-stream
 * --target floor-worker --target edge --rounds 3 --prebuilt --no-save`, before this wait
 * existed) the edge's p99 over the steady window was
 * 2.5–6.5 ms in rounds 1 and 2 and 5.8–74.6 ms in round 3 (three of four above 45 ms), and
 * the unlink bursts of the previous round's objects fell inside the edge's stream windows
 * (docs/performance.md, "An object's sleep").
 * What an object's sleep costs is measured on its own (tools/profile/object-sleep-cpu.ts),
 * not billed to whatever scenario happens to run 10 s later.
 */
import { readdirSync, readlinkSync } from "node:fs";
import { monoMs } from "./clock.ts";
import { sleep } from "./time.ts";

/**
 * How many objects' SQLite databases (`<object id>.sqlite`; not a namespace's alarm index,
 * `metadata.sqlite`, which stays open) the processes hold open; undefined when /proc cannot
 * say (off Linux, a process gone).
 */
export function openDatabases(pids: readonly number[]): number | undefined {
  let n = 0;
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      return undefined;
    }
    for (const fd of fds) {
      try {
        const path = readlinkSync(`/proc/${pid}/fd/${fd}`);
        if (path.endsWith(".sqlite") && !path.endsWith("/metadata.sqlite")) n++;
      } catch {
        // Closed while we looked.
      }
    }
  }
  return n;
}

/** The count `settleObjects` polls for a hop's processes; a hop without PIDs (a peer, direct) has no objects. */
export function hopDatabases(pids: readonly number[]): () => number | undefined {
  return () => (pids.length === 0 ? 0 : openDatabases(pids));
}

export interface Settled {
  /** Databases closed while waiting. */
  readonly closed: number;
  /** Databases still open beyond the baseline when the wait ended (objects that stay awake). */
  readonly awake: number;
  readonly waitedMs: number;
  /** False if `timeoutMs` passed first (or /proc stopped answering). */
  readonly settled: boolean;
}

/**
 * Waits until `count()` is back to `baseline` or below (the objects a measurement woke have
 * gone to sleep), at most `timeoutMs`. Returns at once when nothing was opened. An object
 * that stays awake (a pool's coordinator ticks on its alarm) keeps a wait to its bound on
 * the first measurement that woke it; the next one's baseline includes it.
 */
export async function settleObjects(count: () => number | undefined, baseline: number, timeoutMs: number, pollMs = 250): Promise<Settled> {
  const t0 = monoMs();
  const first = count();
  if (first === undefined || first <= baseline) return { closed: 0, awake: 0, waitedMs: 0, settled: first !== undefined };
  let now: number | undefined = first;
  let seen = first;
  while (now !== undefined && now > baseline && monoMs() - t0 < timeoutMs) {
    await sleep(pollMs);
    now = count();
    if (now !== undefined) seen = now;
  }
  return { closed: first - seen, awake: Math.max(0, seen - baseline), waitedMs: monoMs() - t0, settled: now !== undefined && now <= baseline };
}

/** The progress line for a wait that took time: how many went to sleep, and any left awake. */
export function settledLine(hop: string, what: string, settled: Settled, timeoutMs: number): string {
  const awake = settled.settled ? "" : `; ${settled.awake} still awake at the ${timeoutMs / 1000} s bound`;
  return `${hop}: ${settled.closed} ${what} went to sleep in ${(settled.waitedMs / 1000).toFixed(1)} s${awake}`;
}
