/**
 * The session object's own counts, read from the admin session view
 * (`GET /_edge/admin/sessions/:sk`, Bearer admin token): `activity: { wakes, activeMs,
 * requests, webSocketMessages }`, the object's totals since the session began, and the
 * control-path object's ("hub") counts when the view carries them. The cost model uses
 * these — counted by the objects, not guessed. An edge build whose view has no `activity`
 * gets a reason instead of a figure; nothing is filled in.
 */
import { Agent } from "node:http";
import { httpRequest } from "../lib/http.ts";
import { errorMessage } from "../lib/time.ts";

export interface Activity {
  readonly wakes: number;
  readonly activeMs: number;
  readonly requests: number;
  readonly webSocketMessages: number;
}

export type ActivityRead =
  | { readonly ok: true; readonly session: Activity; readonly hub: Activity | undefined }
  | { readonly ok: false; readonly reason: string };

const FIELDS = ["wakes", "activeMs", "requests", "webSocketMessages"] as const;

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** An `activity` object with every field a finite number ≥ 0, or what is wrong with it. */
export function parseActivity(value: unknown, where: string): Activity | string {
  const r = record(value);
  if (r === undefined) return `${where} is not an object`;
  for (const f of FIELDS) {
    const v = r[f];
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) return `${where}.${f}: expected a number ≥ 0, got ${JSON.stringify(v)}`;
  }
  return { wakes: Number(r.wakes), activeMs: Number(r.activeMs), requests: Number(r.requests), webSocketMessages: Number(r.webSocketMessages) };
}

/** Finds the counts in the view: top-level `activity`, or inside the session record. */
export function activityOfView(view: unknown): ActivityRead {
  const v = record(view);
  if (v === undefined) return { ok: false, reason: "the admin session view is not a JSON object" };
  const session = record(v.session);
  const raw = v.activity ?? session?.activity;
  if (raw === undefined) {
    return {
      ok: false,
      reason: `the admin session view has no \`activity\` (it has: ${Object.keys(v).join(", ")}); this edge build does not count its session objects' wakes and awake time (branch relay adds them), so Durable Object figures are not reported`,
    };
  }
  const activity = parseActivity(raw, "activity");
  if (typeof activity === "string") return { ok: false, reason: `the admin session view's ${activity}` };
  const hubRaw = record(v.hub)?.activity ?? v.hub;
  if (hubRaw === undefined) return { ok: true, session: activity, hub: undefined };
  const hub = parseActivity(hubRaw, "hub");
  if (typeof hub === "string") return { ok: false, reason: `the admin session view's ${hub}` };
  return { ok: true, session: activity, hub };
}

export async function readActivity(edgeUrl: string, adminToken: string, sk: string): Promise<ActivityRead> {
  const agent = new Agent({ keepAlive: false });
  try {
    const res = await httpRequest(`${edgeUrl}/_edge/admin/sessions/${encodeURIComponent(sk)}`, { headers: { authorization: `Bearer ${adminToken}` }, agent, timeoutMs: 5_000 });
    if (res.status !== 200) return { ok: false, reason: `GET /_edge/admin/sessions/${sk}: HTTP ${res.status} ${res.body.slice(0, 160)}` };
    return activityOfView(JSON.parse(res.body));
  } catch (err) {
    return { ok: false, reason: `GET /_edge/admin/sessions/${sk}: ${errorMessage(err)}` };
  } finally {
    agent.destroy();
  }
}

/** b − a, field by field (counts since a). */
export function since(a: Activity, b: Activity): Activity {
  return { wakes: b.wakes - a.wakes, activeMs: b.activeMs - a.activeMs, requests: b.requests - a.requests, webSocketMessages: b.webSocketMessages - a.webSocketMessages };
}
