/**
 * The side-by-side cost table: one column per relay mode, per reference session-hour,
 * with what each figure is (measured, counted by the objects, or modelled), dollars at
 * prices.ts's prices, and an ALB and Cloudflare Load Balancing for the same load.
 */
import type { Dollars, SessionHour } from "./model.ts";
import type { ReferenceRun } from "./reference-session.ts";
import { FLEET_SESSIONS } from "./model.ts";
import { HOURS_PER_MONTH } from "./prices.ts";

export interface ModeResult {
  readonly mode: string;
  /** The pool setting the stack ran with. */
  readonly setting: string;
  readonly measured?: { readonly steadyS: number; readonly messagesEachWay: number; readonly failures: readonly string[] };
  readonly hour?: SessionHour;
  /** What was measured and read, before any scaling (for --json and the saved file). */
  readonly raw?: ReferenceRun;
  readonly dollars?: Dollars;
  /** Why this mode has no figures (its stack did not start, the session failed...). */
  readonly unavailable?: string;
}

export interface CostTarget {
  readonly goal: string;
  readonly met: boolean | undefined;
  readonly figure: string;
}

const n = (v: number | undefined, digits = 0): string => (v === undefined ? "—" : v.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const usd = (v: number | undefined): string => (v === undefined ? "—" : v === 0 ? "$0" : v < 0.01 ? `$${v.toExponential(2)}` : `$${v.toFixed(2)}`);

/** Edge mode's modelled cost ≤ 1/100 of object mode's (issue 12). */
export function costTarget(results: readonly ModeResult[]): CostTarget {
  const goal = "modelled cost per reference session-hour, edge ≤ 1/100 of object";
  const edge = results.find((r) => r.mode === "edge")?.dollars?.total;
  const object = results.find((r) => r.mode === "object")?.dollars?.total;
  if (edge === undefined || object === undefined) return { goal, met: undefined, figure: "not measured in this run (a mode without figures or object counts)" };
  const ratio = (a: number, b: number): string => `1/${(b / Math.max(a, Number.MIN_VALUE)).toFixed(0)}`;
  const upper = results.find((r) => r.mode === "edge")?.dollars?.totalUpper;
  const objectUpper = results.find((r) => r.mode === "object")?.dollars?.totalUpper;
  const withUpper = upper === undefined || objectUpper === undefined ? "" : `; with the upper-bound CPU ${usd(upper)} vs ${usd(objectUpper)} (${ratio(upper, objectUpper)})`;
  return { goal, met: edge <= object / 100, figure: `with the session's net CPU ${usd(edge)} vs ${usd(object)} (${ratio(edge, object)})${withUpper}` };
}

export function renderCost(results: readonly ModeResult[], header: readonly string[]): string {
  const heads = results.map((r) => r.mode);
  const rows: Array<[string, ...string[]]> = [];
  const add = (label: string, f: (r: ModeResult) => string): void => {
    rows.push([label, ...results.map(f)]);
  };
  add("pool setting", (r) => r.setting);
  add("measured: steady phase s", (r) => n(r.measured?.steadyS, 1));
  add("measured: messages each way", (r) => n(r.measured?.messagesEachWay));
  rows.push(["per reference session-hour:"]);
  add("  Worker requests (billed)", (r) => n(r.hour?.workerRequests));
  add("  workerd CPU ms, upper bound (all of it)", (r) => n(r.hour?.workerCpuMsUpper));
  add("  workerd CPU ms, net of its idle rate", (r) => n(r.hour?.workerCpuMsNet));
  add("  DO wakes (counted)", (r) => n(r.hour?.objects?.wakes, 1));
  add("  DO awake s (counted)", (r) => n(r.hour?.objects?.awakeS, 1));
  add("  DO GB-s (128 MB × awake s)", (r) => n(r.hour?.objects?.gbS, 1));
  add("  DO requests (counted)", (r) => n(r.hour?.objects?.requests, 1));
  add("  DO WebSocket messages (counted)", (r) => n(r.hour?.objects?.webSocketMessages, 1));
  add("  DO requests billed (msgs at 20:1)", (r) => n(r.hour?.objects?.billedRequests, 1));
  add("  hub counts included", (r) => (r.hour?.objects === undefined ? "—" : r.hour.objects.withHub ? "yes" : "no (not exposed)"));
  rows.push(["dollars per session-hour:"]);
  add("  Workers requests", (r) => usd(r.dollars?.workerRequests));
  add("  Workers CPU (net)", (r) => usd(r.dollars?.workerCpuNet));
  add("  Workers CPU (upper bound)", (r) => usd(r.dollars?.workerCpuUpper));
  add("  DO requests", (r) => usd(r.dollars?.objectRequests));
  add("  DO duration", (r) => usd(r.dollars?.objectDuration));
  add("  push-edge total (net CPU)", (r) => usd(r.dollars?.total));
  add("  push-edge total (upper-bound CPU)", (r) => usd(r.dollars?.totalUpper));
  add(`  × ${FLEET_SESSIONS.toLocaleString("en-US")} sessions × ${HOURS_PER_MONTH} h (a month)`, (r) => usd(r.dollars?.total === undefined ? undefined : r.dollars.total * FLEET_SESSIONS * HOURS_PER_MONTH));
  add("  AWS ALB, same load (LCU + fixed share)", (r) => usd(r.dollars?.alb.total));
  add("  Cloudflare Load Balancing, same load", (r) => usd(r.dollars?.cfLoadBalancing.total));

  const widths = [Math.max(...rows.map((r) => r[0].length)), ...heads.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i + 1] ?? "").length)))];
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[0] ?? 0) : c.padStart(widths[i] ?? 0))).join("   ").trimEnd();
  const out = [...header, "", line(["", ...heads]), "-".repeat(widths.reduce((a, b) => a + b + 3, 0))];
  for (const r of rows) out.push(line(r));
  const target = costTarget(results);
  out.push("", `target: ${target.goal}: ${target.met === undefined ? "not measured" : target.met ? "met" : "MISSED"} — ${target.figure}`);
  for (const r of results) {
    if (r.unavailable !== undefined) out.push(`${r.mode}: no figures — ${r.unavailable}`);
    if (r.hour?.objectsMissing !== undefined) out.push(`${r.mode}: no Durable Object figures — ${r.hour.objectsMissing}`);
    for (const f of r.measured?.failures ?? []) out.push(`${r.mode}: ${f}`);
  }
  return `${out.join("\n")}\n`;
}
