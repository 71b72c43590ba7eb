/** Plain-text output for people: aligned tables, load bars, times. `--json` bypasses all of it. */

export interface Column<T> {
  readonly header: string;
  readonly value: (row: T) => string;
  /** Numbers read better right-aligned. */
  readonly right?: boolean;
}

/** An aligned table, header first, two spaces between columns, no trailing blanks. */
export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((row) => columns.map((c) => c.value(row)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => (r[i] ?? "").length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => (columns[i]?.right === true ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join("\n");
}

/** `[####......]  40%` for a load of 0.4; loads above 1 fill the bar and show the real figure. */
export function loadBar(load: number, width = 10): string {
  const safe = Number.isFinite(load) && load > 0 ? load : 0;
  const filled = Math.min(width, Math.round(safe * width));
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${`${Math.round(safe * 100)}%`.padStart(4)}`;
}

/** Local wall-clock time with milliseconds, for event logs. */
export function clock(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").replace("Z", "");
}

/** `a=1 b="two words"`: an event's detail on one line. */
export function inlineDetail(detail: Record<string, unknown>): string {
  return Object.entries(detail)
    .map(([k, v]) => `${k}=${typeof v === "string" && !/\s/.test(v) ? v : JSON.stringify(v)}`)
    .join(" ");
}
