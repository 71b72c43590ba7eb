/**
 * The run as Markdown: what ran where, the figures (mean of the rounds ± half their range),
 * ratios to direct, to HAProxy and to the platform floors, the targets met or missed, and the errors. The same
 * text goes to stdout, to bench/results/<time>.md, and (with --write-doc) between the
 * markers in docs/performance.md.
 */
import { ratio, type Aggregate, type Figure } from "./aggregate.ts";
import type { GoalResult } from "./goals.ts";

export interface RunHeader {
  readonly startedAt: string;
  readonly mode: string;
  readonly rounds: number;
  readonly machine: string;
  readonly versions: string;
  readonly pinning: string;
  readonly targets: ReadonlyArray<{ name: string; path: string }>;
  readonly unavailable: readonly string[];
  readonly scenarios: ReadonlyArray<{ title: string; summary: string }>;
  readonly load: string;
}

function num(v: number, unit: Figure["unit"]): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? "n/a" : "never";
  switch (unit) {
    case "ms":
      return v < 10 ? `${Math.round(v * 1000)} µs` : `${v.toFixed(1)} ms`;
    case "rate":
      return v >= 1000 ? `${(v / 1000).toFixed(1)}k/s` : `${v.toFixed(0)}/s`;
    case "KiB":
      return `${v.toFixed(1)} KiB`;
    case "ratio":
      return v.toFixed(3);
    case "s":
      return `${v.toFixed(1)} s`;
    case "count":
      return v.toFixed(0);
  }
}

function spread(s: number, unit: Figure["unit"]): string {
  if (!Number.isFinite(s) || s === 0) return "";
  return ` ±${num(s, unit).replace(/\/s$/, "")}`;
}

function cell(f: Figure, target: string): string {
  const v = f.values[target];
  return v === undefined ? "—" : `${num(v.mean, f.unit)}${spread(v.spread, f.unit)}`;
}

function ratioCell(f: Figure, target: string, reference: string): string {
  const r = ratio(f, target, reference);
  return Number.isNaN(r) ? "—" : `${r.toFixed(2)}×`;
}

const row = (cells: readonly string[]): string => `| ${cells.join(" | ")} |`;

export function renderMarkdown(h: RunHeader, agg: Aggregate, goals: readonly GoalResult[], scenarioTitles: ReadonlyMap<string, string>): string {
  const names = h.targets.map((t) => t.name);
  const out: string[] = [];
  out.push(`### push-edge bench — ${h.startedAt} (${h.mode}, ${h.rounds} round${h.rounds === 1 ? "" : "s"})`, "");
  out.push(`- machine: ${h.machine}`, `- versions: ${h.versions}`, `- pinning: ${h.pinning}`, `- load: ${h.load}`);
  for (const t of h.targets) out.push(`- \`${t.name}\`: ${t.path}`);
  for (const u of h.unavailable) out.push(`- **unavailable**: ${u}`);
  out.push("", "Figures: mean of the rounds ± half their range (the noise). Latencies in µs below 10 ms.", "");
  out.push(row(["", ...names]), row(["---", ...names.map(() => "---")]));
  let lastScenario = "";
  for (const f of agg.figures) {
    const scenario = f.key.split("/")[0] ?? "";
    if (scenario !== lastScenario) {
      out.push(row([`**${scenarioTitles.get(scenario) ?? scenario}**`, ...names.map(() => "")]));
      lastScenario = scenario;
    }
    out.push(row([f.label, ...names.map((t) => cell(f, t))]));
  }
  const others = names.filter((n) => n !== "direct");
  if (names.includes("direct") || names.includes("haproxy")) {
    out.push("", "Ratios (target ÷ direct / target ÷ HAProxy; for rates higher is better, for everything else lower is):", "");
    out.push(row(["", ...others]), row(["---", ...others.map(() => "---")]));
    for (const f of agg.figures) {
      if (f.unit === "count") continue;
      out.push(row([f.key, ...others.map((t) => `${ratioCell(f, t, "direct")} / ${t === "haproxy" ? "1" : ratioCell(f, t, "haproxy")}`)]));
    }
  }
  const floors = ["floor-worker", "floor-object"].filter((n) => names.includes(n));
  const edges = names.filter((n) => n.startsWith("edge"));
  if (floors.length > 0 && edges.length > 0) {
    // "As fast as the platform allows" as a number: each edge column over each floor.
    const heads = edges.flatMap((e) => floors.map((fl) => `${e} ÷ ${fl}`));
    out.push("", "Ratios to the platform floors (same run; for rates higher is better, for everything else lower is):", "");
    out.push(row(["", ...heads]), row(["---", ...heads.map(() => "---")]));
    for (const f of agg.figures) {
      if (f.unit === "count" || floors.every((fl) => f.values[fl] === undefined)) continue;
      out.push(row([f.key, ...edges.flatMap((e) => floors.map((fl) => ratioCell(f, e, fl)))]));
    }
  }
  out.push("", "Targets (push-edge = the `edge` column):", "");
  out.push(row(["target", "result", "figure"]), row(["---", "---", "---"]));
  for (const g of goals) out.push(row([g.goal, g.met === undefined ? "not measured" : g.met ? "met" : "**missed**", g.figure]));
  out.push("", "Scenarios:", "");
  for (const s of h.scenarios) out.push(`- ${s.title}: ${s.summary}`);
  if (agg.errors.length > 0) {
    out.push("", "Errors (all rounds):", "");
    for (const e of agg.errors) out.push(`- ${e.scenario} / ${e.target}: ${e.count} — ${e.messages.slice(0, 4).join("; ")}`);
  }
  return `${out.join("\n")}\n`;
}
