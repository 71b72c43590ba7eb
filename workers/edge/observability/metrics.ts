/**
 * This isolate's share of the fleet-wide metrics. Requests add to in-memory sums per pool
 * (no I/O, no await); at most once per FLUSH_MS the sums are sent to each pool's
 * coordinator as a delta, off the response path (`waitUntil`), and start again from zero.
 * The coordinator adds every isolate's deltas, so /_edge/metrics shows the whole edge.
 *
 * A delta whose send fails is added back and goes with the next flush; only an isolate
 * evicted between a request and its flush (≤ FLUSH_MS later) can lose a delta.
 */
import { coordinatorStub } from "../../../durable-objects/pool/stub.ts";
import type { MetricName } from "./catalogue.ts";
import { SeriesSums, type Labels } from "./series.ts";

/** How long an isolate keeps deltas before sending them. */
export const FLUSH_MS = 1_000;

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

/** Forgets unsent deltas (tests). */
export function resetMetrics(): void {
  pending = new Map();
  scheduled = false;
}
