/**
 * The performance targets, checked against one run's figures for push-edge
 * (the `edge` column: the deploy bundle in standalone workerd, fetch transport) and,
 * where the target is relative, HAProxy in the same run.
 */
import type { Aggregate } from "./aggregate.ts";

export interface GoalResult {
  readonly goal: string;
  /** undefined: not measured in this run (scenario not run, or a peer unavailable). */
  readonly met: boolean | undefined;
  readonly figure: string;
}

interface Goal {
  readonly goal: string;
  readonly key: string;
  /** `edge`'s figure against an absolute limit, or against `factor` × HAProxy's. */
  readonly check: { readonly max: number } | { readonly min: number } | { readonly maxTimesHaproxy: number } | { readonly minTimesHaproxy: number };
  readonly unit: string;
}

export const GOALS: readonly Goal[] = [
  { goal: "HTTP-stream chunk delay p50 ≤ HAProxy's", key: "http-stream/delay/p50", check: { maxTimesHaproxy: 1 }, unit: "ms" },
  { goal: "HTTP-stream chunk delay p99 ≤ HAProxy's", key: "http-stream/delay/p99", check: { maxTimesHaproxy: 1 }, unit: "ms" },
  { goal: "WS echo RTT (session DO) p99 ≤ HAProxy's", key: "ws-echo/rtt/p99", check: { maxTimesHaproxy: 1 }, unit: "ms" },
  { goal: "WS echo RTT (session DO) p50 ≤ 1.5× HAProxy's", key: "ws-echo/rtt/p50", check: { maxTimesHaproxy: 1.5 }, unit: "ms" },
  { goal: "WS echo msgs/s (session DO, 50 conns) ≥ 0.4× HAProxy's", key: "ws-throughput/rate", check: { minTimesHaproxy: 0.4 }, unit: "/s" },
  { goal: "small CR requests/s ≥ 0.3× HAProxy's", key: "cr-requests/rate", check: { minTimesHaproxy: 0.3 }, unit: "/s" },
  { goal: "S session creation ≥ 2,500/s", key: "session-create/rate", check: { min: 2_500 }, unit: "/s" },
  { goal: "memory per held idle WS session ≤ 120 KiB", key: "idle-memory/per-session", check: { max: 120 }, unit: "KiB" },
  { goal: "NAT scenario: max/mean ≤ 1.05", key: "nat-balance/max-mean", check: { max: 1.05 }, unit: "×" },
  { goal: "origin restart: max/mean ≤ 1.10 within 30 s", key: "origin-restart/balanced-after", check: { max: 30 }, unit: "s" },
];

function show(v: number, unit: string): string {
  if (!Number.isFinite(v)) return "never";
  if (unit === "ms") return v < 10 ? `${Math.round(v * 1000)} µs` : `${v.toFixed(1)} ms`;
  if (unit === "/s") return `${Math.round(v)}/s`;
  if (unit === "×") return v.toFixed(3);
  return `${v.toFixed(1)} ${unit}`;
}

export function checkGoals(agg: Aggregate, edge = "edge", haproxy = "haproxy"): GoalResult[] {
  return GOALS.map((g) => {
    const fig = agg.figures.find((f) => f.key === g.key);
    const mine = fig?.values[edge]?.mean;
    if (fig === undefined || mine === undefined) return { goal: g.goal, met: undefined, figure: "not measured in this run" };
    const c = g.check;
    if ("max" in c) return { goal: g.goal, met: mine <= c.max, figure: show(mine, g.unit) };
    if ("min" in c) return { goal: g.goal, met: mine >= c.min, figure: show(mine, g.unit) };
    const ref = fig.values[haproxy]?.mean;
    if (ref === undefined) return { goal: g.goal, met: undefined, figure: `${show(mine, g.unit)}; HAProxy not measured` };
    const r = mine / ref;
    const met = "maxTimesHaproxy" in c ? r <= c.maxTimesHaproxy : r >= c.minTimesHaproxy;
    return { goal: g.goal, met, figure: `${show(mine, g.unit)} vs HAProxy ${show(ref, g.unit)} (${r.toFixed(2)}×)` };
  });
}
