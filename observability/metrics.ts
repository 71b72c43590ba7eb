/**
 * This isolate's share of the fleet-wide metrics. Requests add to in-memory sums per pool
 * (no I/O, no await). The sums travel to each pool's coordinator as a delta, and start
 * again from zero, in one of two ways, both off the response path:
 *
 * - riding on the snapshot read the isolate makes anyway (balance/pool-view.ts, at most
 *   every 2 s while it places sessions) — no extra call to the coordinator;
 * - otherwise (an isolate serving only CR requests, or a quiet one) a flush FLUSH_MS after
 *   the first unsent count (`waitUntil`), which finds nothing to send if a snapshot read
 *   took the delta meanwhile.
 *
 * The coordinator adds every isolate's deltas, so /_edge/metrics shows the whole edge. A
 * delta whose send fails is added back and goes with the next one; only an isolate evicted
 * before its delta left can lose it.
 */
import { coordinatorStub } from "../durable-objects/pool/stub.ts";
import type { MetricName } from "./catalogue.ts";
import { SeriesSums, type Labels, type MetricsDelta } from "./series.ts";

/** How long an isolate keeps a delta at most before sending it on its own. */
export const FLUSH_MS = 5_000;

let pending = new Map<string, SeriesSums>();
let scheduled = false;

function sumsOf(pool: string): SeriesSums {
  let sums = pending.get(pool);
  if (sums === undefined) {
    sums = new SeriesSums();
    pending.set(pool, sums);
  }
  return sums;
}

export function count(pool: string, name: MetricName, labels: Labels, n = 1): void {
  sumsOf(pool).count(name, { pool, ...labels }, n);
}

export function observe(pool: string, name: MetricName, labels: Labels, seconds: number): void {
  sumsOf(pool).observe(name, { pool, ...labels }, seconds);
}

/** Schedules one flush FLUSH_MS from now, unless one is already on its way. */
export function scheduleFlush(env: Env, waitUntil: (p: Promise<unknown>) => void): void {
  if (scheduled || pending.size === 0) return;
  scheduled = true;
  waitUntil(new Promise((resolve) => setTimeout(resolve, FLUSH_MS)).then(() => flushMetrics(env)));
}

/** Sends every pool's delta to its coordinator now (the metrics scrape calls this first). */
export async function flushMetrics(env: Env): Promise<void> {
  scheduled = false;
  const taken = pending;
  pending = new Map();
  await Promise.all(
    [...taken].map(async ([pool, sums]) => {
      try {
        await coordinatorStub(env, pool).addMetrics(sums.toDelta());
      } catch {
        // Added back: the next flush carries it.
        sumsOf(pool).merge(sums.toDelta());
      }
    }),
  );
}

/** Takes a pool's unsent delta (for a snapshot read to carry); undefined when there is none. */
export function takeDelta(pool: string): MetricsDelta | undefined {
  const sums = pending.get(pool);
  pending.delete(pool);
  return sums === undefined || sums.empty ? undefined : sums.toDelta();
}

/** Puts back a delta whose carrier failed, for the next send. */
export function restoreDelta(pool: string, delta: MetricsDelta): void {
  sumsOf(pool).merge(delta);
}

/** Forgets unsent deltas (tests). */
export function resetMetrics(): void {
  pending = new Map();
  scheduled = false;
}
