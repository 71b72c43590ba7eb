/**
 * Rounds → one figure per (scenario, metric, statistic, target): the mean over rounds and
 * the spread (half the range, the "noise" shown as ±), plus ratios to `direct` and to
 * `haproxy` in the same run. Only figures every scenario reports are used; nothing is
 * filled in.
 */
import type { ScenarioReport } from "./report.ts";
import type { Metric } from "./scenario.ts";

export type Unit = "ms" | "rate" | "KiB" | "ratio" | "s" | "count";

export interface Figure {
  /** `scenario/metric/stat`, e.g. `ws-echo/rtt/p50`. */
  readonly key: string;
  readonly label: string;
  readonly unit: Unit;
  /** Higher is better (rates), or lower (latency, memory, imbalance, time). */
  readonly higherIsBetter: boolean;
  /** target → mean over rounds, spread, per-round values. */
  readonly values: Readonly<Record<string, { mean: number; spread: number; rounds: number[] } | undefined>>;
}

export interface Aggregate {
  readonly figures: readonly Figure[];
  /** scenario → target → error messages over all rounds. */
  readonly errors: ReadonlyArray<{ scenario: string; target: string; count: number; messages: readonly string[] }>;
}

const LATENCY_STATS = ["p50", "p99"] as const;

function rowsOf(scenario: string, metric: Metric): Array<{ key: string; label: string; unit: Unit; higherIsBetter: boolean; pick: (m: Metric) => number | undefined }> {
  if (metric.kind === "latency") {
    return LATENCY_STATS.map((stat) => ({
      key: `${scenario}/${metric.key}/${stat}`,
      label: `${metric.label} ${stat}`,
      unit: "ms" as const,
      higherIsBetter: false,
      pick: (m: Metric) => (m.kind === "latency" && m.summary.count > 0 ? m.summary[stat] : undefined),
    }));
  }
  const unit: Unit = metric.unit === "/s" ? "rate" : metric.unit === "KiB" ? "KiB" : metric.unit === "×" ? "ratio" : metric.unit === "s" ? "s" : metric.unit === "ms" ? "ms" : "count";
  return [
    {
      key: `${scenario}/${metric.key}`,
      label: metric.label,
      unit,
      higherIsBetter: unit === "rate",
      pick: (m: Metric) => (m.kind === "rate" && !Number.isNaN(m.value) ? m.value : undefined),
    },
  ];
}

export function aggregate(rounds: ReadonlyArray<readonly ScenarioReport[]>, targets: readonly string[]): Aggregate {
  const figures: Figure[] = [];
  const errors: Array<{ scenario: string; target: string; count: number; messages: string[] }> = [];
  const scenarioNames = [...new Set(rounds.flatMap((r) => r.map((s) => s.name)))];
  for (const name of scenarioNames) {
    const reports = rounds.map((r) => r.find((s) => s.name === name)).filter((s): s is ScenarioReport => s !== undefined);
    const metrics: Metric[] = [];
    for (const rep of reports) for (const res of rep.results) for (const m of res.metrics) if (!metrics.some((x) => x.key === m.key)) metrics.push(m);
    for (const metric of metrics) {
      for (const row of rowsOf(name, metric)) {
        const values: Record<string, Figure["values"][string]> = {};
        for (const target of targets) {
          const per = reports
            .map((rep) => rep.results.find((r) => r.target === target)?.metrics.find((m) => m.key === metric.key))
            .map((m) => (m === undefined ? undefined : row.pick(m)))
            .filter((v): v is number => v !== undefined);
          if (per.length === 0) continue;
          const mean = per.reduce((a, b) => a + b, 0) / per.length;
          const finite = per.every(Number.isFinite);
          values[target] = { mean, spread: finite ? (Math.max(...per) - Math.min(...per)) / 2 : Number.NaN, rounds: per };
        }
        figures.push({ key: row.key, label: row.label, unit: row.unit, higherIsBetter: row.higherIsBetter, values });
      }
    }
    for (const target of targets) {
      const results = reports.map((rep) => rep.results.find((r) => r.target === target)).filter((r) => r !== undefined);
      const count = results.reduce((a, r) => a + r.errorCount, 0);
      if (count > 0) errors.push({ scenario: name, target, count, messages: [...new Set(results.flatMap((r) => r.errors))] });
    }
  }
  return { figures, errors };
}

/** value ÷ the reference target's value (NaN when either is missing or not finite). */
export function ratio(figure: Figure, target: string, reference: string): number {
  const v = figure.values[target]?.mean;
  const r = figure.values[reference]?.mean;
  if (v === undefined || r === undefined || !Number.isFinite(v) || !Number.isFinite(r) || r === 0) return Number.NaN;
  return v / r;
}
