/** The chaos run's table: one row per scenario, the pass criteria last. */
import type { ScenarioResult } from "./scenario.ts";

export function table(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: readonly string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n");
}

export function chaosTable(results: readonly ScenarioResult[]): string {
  return table(
    ["scenario", "clients", "sessions", "events", "resumed", "told", "hung", "lost", "dup", "misrouted CR", "session leaks", "process leaks", "s", "result"],
    results.map((r) => [
      r.scenario,
      r.clients,
      r.stats.sessions,
      r.stats.events,
      r.stats.resumed,
      r.stats.told,
      r.stats.hung,
      r.stats.lost,
      r.stats.duplicated,
      r.misroutedCr,
      r.sessionLeaks,
      r.processLeaks,
      r.seconds.toFixed(0),
      r.passed ? "pass" : "FAIL",
    ]),
  );
}

/** The scenario's own claims and how the told ones were told. */
export function details(results: readonly ScenarioResult[]): string {
  const out: string[] = [];
  for (const r of results) {
    out.push(`${r.scenario}:`);
    for (const e of r.expectations) out.push(`  ${e.ok ? "ok  " : "FAIL"} ${e.what} (${e.detail})`);
    const told = Object.entries(r.stats.toldBy).map(([k, v]) => `${k} ×${v}`);
    if (told.length > 0) out.push(`  told by: ${told.join(", ")}`);
    if (r.stats.createFailures > 0) out.push(`  S requests retried: ${r.stats.createFailures} (${[...new Set(r.stats.errors)].slice(0, 3).join("; ")})`);
    if (r.error !== undefined) out.push(`  ERROR ${r.error}`);
  }
  return out.join("\n");
}
