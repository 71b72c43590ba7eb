/**
 * The side-by-side table: one column per target, then one "target − baseline" column for
 * every target after the first (the baseline, normally `direct`), so the cost of each hop
 * reads straight off the table. Latencies are in milliseconds.
 */
import type { Metric, TargetResult } from "./scenario.ts";
import type { Summary } from "./stats.ts";

export interface ScenarioReport {
  readonly name: string;
  readonly title: string;
  readonly summary: string;
  readonly params: Readonly<Record<string, number>>;
  readonly results: readonly TargetResult[];
}

type Row = { label: string; values: Array<number | undefined>; kind: "ms" | "count" | "rate" };

const LATENCY_ROWS: ReadonlyArray<{ key: keyof Summary; name: string; kind: Row["kind"] }> = [
  { key: "p50", name: "p50 ms", kind: "ms" },
  { key: "p99", name: "p99 ms", kind: "ms" },
  { key: "mean", name: "mean ms", kind: "ms" },
  { key: "count", name: "count", kind: "count" },
];

type Line = { heading: string } | { cells: string[] };

export function renderTable(targets: readonly string[], scenarios: readonly ScenarioReport[]): string {
  const baseline = targets[0] ?? "";
  const deltaHeads = targets.slice(1).map((t) => `${t} − ${baseline}`);
  const head = ["", ...targets, ...deltaHeads];
  const lines: Line[] = [];
  const notes: string[] = [];

  for (const scenario of scenarios) {
    if (lines.length > 0) lines.push({ heading: "" });
    lines.push({ heading: scenario.title }, { heading: `  ${scenario.summary}` });
    for (const row of rowsOf(targets, scenario.results)) {
      const base = row.values[0];
      const deltas = row.values.slice(1).map((v) => (row.kind === "count" ? "" : delta(v, base, row.kind)));
      lines.push({ cells: [`  ${row.label}`, ...row.values.map((v) => format(v, row.kind)), ...deltas] });
    }
    const errorCounts = targets.map((t) => scenario.results.find((r) => r.target === t)?.errorCount);
    lines.push({ cells: ["  errors", ...errorCounts.map((v) => format(v, "count")), ...deltaHeads.map(() => "")] });
    for (const r of scenario.results) for (const m of r.errors) notes.push(`${scenario.name} / ${r.target}: ${m}`);
  }

  const rows = lines.flatMap((l) => ("cells" in l ? [l.cells] : []));
  const widths = head.map((h, col) => Math.max(h.length, ...rows.map((cells) => (cells[col] ?? "").length)));
  const render = (cells: readonly string[]): string =>
    cells.map((c, col) => (col === 0 ? c.padEnd(widths[0] ?? 0) : c.padStart(widths[col] ?? 0))).join("   ").trimEnd();

  const top = render(head);
  const out: string[] = [top, "-".repeat(top.length)];
  for (const line of lines) out.push("cells" in line ? render(line.cells) : line.heading);
  if (notes.length > 0) out.push("", "Errors:", ...notes.map((n) => `  ${n}`));
  return out.join("\n");
}

function rowsOf(targets: readonly string[], results: readonly TargetResult[]): Row[] {
  // Metric order and labels come from the first result that has them.
  const metrics: Metric[] = [];
  for (const r of results) for (const m of r.metrics) if (!metrics.some((x) => x.key === m.key)) metrics.push(m);
  const find = (target: string, key: string): Metric | undefined =>
    results.find((r) => r.target === target)?.metrics.find((m) => m.key === key);

  const rows: Row[] = [];
  for (const metric of metrics) {
    if (metric.kind === "rate") {
      rows.push({
        label: `${metric.label}`,
        kind: "rate",
        values: targets.map((t) => {
          const m = find(t, metric.key);
          return m?.kind === "rate" ? m.value : undefined;
        }),
      });
      continue;
    }
    for (const r of LATENCY_ROWS) {
      rows.push({
        label: `${metric.label} ${r.name}`,
        kind: r.kind,
        values: targets.map((t) => {
          const m = find(t, metric.key);
          return m?.kind === "latency" ? m.summary[r.key] : undefined;
        }),
      });
    }
  }
  return rows;
}

function format(value: number | undefined, kind: Row["kind"]): string {
  if (value === undefined) return "—";
  if (Number.isNaN(value)) return "n/a";
  switch (kind) {
    case "count":
      return String(Math.round(value));
    case "rate":
      return value.toFixed(0);
    case "ms":
      return value.toFixed(value < 10 ? 2 : 1);
  }
}

function delta(value: number | undefined, base: number | undefined, kind: Row["kind"]): string {
  if (value === undefined || base === undefined || Number.isNaN(value) || Number.isNaN(base)) return "";
  const d = value - base;
  const sign = d >= 0 ? "+" : "−";
  const abs = Math.abs(d);
  if (kind === "rate") return `${sign}${abs.toFixed(0)} (${sign}${((abs / base) * 100).toFixed(0)}%)`;
  return `${sign}${abs.toFixed(abs < 10 ? 2 : 1)}`;
}
