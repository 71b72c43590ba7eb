/**
 * The issues' performance targets, checked against one run's figures for push-edge (the
 * `edge` column: the deploy bundle in standalone workerd, fetch transport, the pool's
 * default relay mode) and, where the target is relative, another column of the same run:
 * HAProxy, or one of the platform floors (`floor-worker`, `floor-object`: bench/floors/).
 */
import type { Aggregate } from "./aggregate.ts";

export interface GoalResult {
  readonly goal: string;
  /** undefined: not measured in this run (scenario not run, or a column unavailable). */
  readonly met: boolean | undefined;
  readonly figure: string;
}

/** `edge`'s figure against an absolute limit, or against `times` × another column's. */
type Check =
  | { readonly max: number }
  | { readonly min: number }
  | { readonly maxTimes: number; readonly of: string }
  | { readonly minTimes: number; readonly of: string };

interface Goal {
  readonly goal: string;
  readonly key: string;
  readonly check: Check;
  readonly unit: string;
}

/** "Within 1.2× of floor-worker": a rate at least 1/1.2 of its, a delay at most 1.2× its. */
const WITHIN = 1.2;

export const GOALS: readonly Goal[] = [
  { goal: "HTTP-stream chunk delay p50 ≤ HAProxy's", key: "http-stream/delay/p50", check: { maxTimes: 1, of: "haproxy" }, unit: "ms" },
  { goal: "HTTP-stream chunk delay p99 ≤ HAProxy's", key: "http-stream/delay/p99", check: { maxTimes: 1, of: "haproxy" }, unit: "ms" },
  { goal: "WS echo RTT (session DO) p99 ≤ HAProxy's", key: "ws-echo/rtt/p99", check: { maxTimes: 1, of: "haproxy" }, unit: "ms" },
  { goal: "WS echo RTT (session DO) p50 ≤ 1.5× HAProxy's", key: "ws-echo/rtt/p50", check: { maxTimes: 1.5, of: "haproxy" }, unit: "ms" },
  { goal: "WS echo msgs/s (session DO, 50 conns) ≥ 0.4× HAProxy's", key: "ws-throughput/rate", check: { minTimes: 0.4, of: "haproxy" }, unit: "/s" },
  { goal: "small CR requests/s ≥ 0.3× HAProxy's", key: "cr-requests/rate", check: { minTimes: 0.3, of: "haproxy" }, unit: "/s" },
  { goal: "S session creation ≥ 2,500/s", key: "session-create/rate", check: { min: 2_500 }, unit: "/s" },
  { goal: "memory per held idle WS session ≤ 120 KiB", key: "idle-memory/per-session", check: { max: 120 }, unit: "KiB" },
  { goal: "NAT scenario: max/mean ≤ 1.05", key: "nat-balance/max-mean", check: { max: 1.05 }, unit: "×" },
  { goal: "origin restart: max/mean ≤ 1.10 within 30 s", key: "origin-restart/balanced-after", check: { max: 30 }, unit: "s" },
  // Issue 12: "as fast as the platform allows", as ratios to the floors of the same run.
  { goal: "WS msgs/s within 1.2× of floor-worker", key: "ws-throughput/rate", check: { minTimes: 1 / WITHIN, of: "floor-worker" }, unit: "/s" },
  { goal: "SSE delay p50 within 1.2× of floor-worker", key: "http-stream/delay/p50", check: { maxTimes: WITHIN, of: "floor-worker" }, unit: "ms" },
  { goal: "SSE delay p99 within 1.2× of floor-worker", key: "http-stream/delay/p99", check: { maxTimes: WITHIN, of: "floor-worker" }, unit: "ms" },
  { goal: "CR requests/s ≥ 0.8× floor-object", key: "cr-requests/rate", check: { minTimes: 0.8, of: "floor-object" }, unit: "/s" },
  { goal: "S rate ≥ 0.8× floor-object's new-object rate", key: "session-create/rate", check: { minTimes: 0.8, of: "floor-object" }, unit: "/s" },
  { goal: "RSS per held idle WS session (past the idle period) ≤ 1.5× floor-worker's", key: "idle-memory/per-session", check: { maxTimes: 1.5, of: "floor-worker" }, unit: "KiB" },
  { goal: "the same, second fill (a hop that held as many before) ≤ 1.5× floor-worker's", key: "idle-memory/per-session-refill", check: { maxTimes: 1.5, of: "floor-worker" }, unit: "KiB" },
];

function show(v: number, unit: string): string {
  if (!Number.isFinite(v)) return "never";
  if (unit === "ms") return v < 10 ? `${Math.round(v * 1000)} µs` : `${v.toFixed(1)} ms`;
  if (unit === "/s") return `${Math.round(v)}/s`;
  if (unit === "×") return v.toFixed(3);
  return `${v.toFixed(1)} ${unit}`;
}

export function checkGoals(agg: Aggregate, edge = "edge"): GoalResult[] {
  return GOALS.map((g) => {
    const fig = agg.figures.find((f) => f.key === g.key);
    const mine = fig?.values[edge]?.mean;
    if (fig === undefined || mine === undefined) return { goal: g.goal, met: undefined, figure: "not measured in this run" };
    const c = g.check;
    if ("max" in c) return { goal: g.goal, met: mine <= c.max, figure: show(mine, g.unit) };
    if ("min" in c) return { goal: g.goal, met: mine >= c.min, figure: show(mine, g.unit) };
    const ref = fig.values[c.of]?.mean;
    if (ref === undefined) return { goal: g.goal, met: undefined, figure: `${show(mine, g.unit)}; ${c.of} not measured` };
    const r = mine / ref;
    const met = "maxTimes" in c ? r <= c.maxTimes : r >= c.minTimes;
    return { goal: g.goal, met, figure: `${show(mine, g.unit)} vs ${c.of} ${show(ref, g.unit)} (${r.toFixed(2)}×)` };
  });
}
