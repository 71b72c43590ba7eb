/**
 * The objects' own counts, read through the admin API: the session object's
 * `activity: { wakes, activeMs, requests, webSocketMessages }` (totals since the session
 * began, `GET /_edge/admin/sessions/:sk`) and, for every isolate that pumps one of the
 * session's legs (`legs[].isolate`), that isolate's control-path object ("hub",
 * `GET /_edge/admin/isolates/:id`). The cost model uses these — counted by the objects,
 * not guessed. An edge build whose view has no `activity` gets a reason instead of a
 * figure; nothing is filled in.
 *
 * Reading is not free: each read is a request to the object it reads, and wakes it when
 * it hibernates. Each read reports its own footprint (`own`), so the model can take it out:
 * one request, plus the wake when the session's event log has a `woke` at or after the
 * read began. A hub keeps no such log: model.ts infers its read's wake from the counts.
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

export const NO_ACTIVITY: Activity = { wakes: 0, activeMs: 0, requests: 0, webSocketMessages: 0 };

export interface Counted {
  /** Totals as the object reported them. */
  readonly totals: Activity;
  /** What this read itself added to them. */
  readonly own: Activity;
}

export type ActivityRead =
  | { readonly ok: true; readonly session: Counted; readonly hub: Counted | undefined; readonly hubIsolates: readonly string[] }
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

/** Whether the view's event log has a `woke` event at or after `sinceEpochMs` (this read woke the object). */
function wokeSince(view: Record<string, unknown>, sinceEpochMs: number): boolean {
  const events = Array.isArray(view.events) ? view.events : [];
  return events.some((e) => {
    const r = record(e);
    return r?.kind === "woke" && typeof r.at === "number" && r.at >= sinceEpochMs;
  });
}

export type SessionView = { ok: true; activity: Counted; isolates: string[] } | { ok: false; reason: string };

/** The session object's counts in its admin view (top-level `activity`), with this read's own footprint. */
export function sessionCounts(view: unknown, readStartedAt: number): SessionView {
  const v = record(view);
  if (v === undefined) return { ok: false, reason: "the admin session view is not a JSON object" };
  if (v.activity === undefined) {
    return {
      ok: false,
      reason: `the admin session view has no \`activity\` (it has: ${Object.keys(v).join(", ")}); this edge build does not count its session objects' wakes and awake time, so Durable Object figures are not reported`,
    };
  }
  const totals = parseActivity(v.activity, "activity");
  if (typeof totals === "string") return { ok: false, reason: `the admin session view's ${totals}` };
  const isolates = (Array.isArray(v.legs) ? v.legs : []).map((l) => record(l)?.isolate).filter((i): i is string => typeof i === "string");
  return { ok: true, activity: { totals, own: { ...NO_ACTIVITY, requests: 1, wakes: wokeSince(v, readStartedAt) ? 1 : 0 } }, isolates: [...new Set(isolates)] };
}

async function getJson(url: string, adminToken: string, agent: Agent): Promise<{ ok: true; body: unknown } | { ok: false; reason: string }> {
  try {
    const res = await httpRequest(url, { headers: { authorization: `Bearer ${adminToken}` }, agent, timeoutMs: 5_000 });
    if (res.status !== 200) return { ok: false, reason: `GET ${new URL(url).pathname}: HTTP ${res.status} ${res.body.slice(0, 160)}` };
    return { ok: true, body: JSON.parse(res.body) };
  } catch (err) {
    return { ok: false, reason: `GET ${new URL(url).pathname}: ${errorMessage(err)}` };
  }
}

function sum(a: Activity, b: Activity): Activity {
  return { wakes: a.wakes + b.wakes, activeMs: a.activeMs + b.activeMs, requests: a.requests + b.requests, webSocketMessages: a.webSocketMessages + b.webSocketMessages };
}

/**
 * Reads the session's counts and its legs' hubs'. `isolates` are hubs to read even when the
 * session names none now (those it named at an earlier read: its legs may have closed).
 */
export async function readActivity(edgeUrl: string, adminToken: string, sk: string, isolates: readonly string[] = []): Promise<ActivityRead> {
  const agent = new Agent({ keepAlive: false });
  try {
    const startedAt = Date.now();
    const got = await getJson(`${edgeUrl}/_edge/admin/sessions/${encodeURIComponent(sk)}`, adminToken, agent);
    if (!got.ok) return got;
    const session = sessionCounts(got.body, startedAt);
    if (!session.ok) return session;
    const hubIsolates = [...new Set([...isolates, ...session.isolates])];
    let hub: Counted | undefined;
    for (const id of hubIsolates) {
      const h = await getJson(`${edgeUrl}/_edge/admin/isolates/${encodeURIComponent(id)}`, adminToken, agent);
      if (!h.ok) return h;
      const totals = parseActivity(record(h.body)?.activity, `isolate ${id}'s activity`);
      if (typeof totals === "string") return { ok: false, reason: `the admin isolate view: ${totals}` };
      const own: Activity = { ...NO_ACTIVITY, requests: 1 };
      hub = hub === undefined ? { totals, own } : { totals: sum(hub.totals, totals), own: sum(hub.own, own) };
    }
    return { ok: true, session: session.activity, hub, hubIsolates };
  } finally {
    agent.destroy();
  }
}

/** b − a, field by field (counts since a). */
export function since(a: Activity, b: Activity): Activity {
  return { wakes: b.wakes - a.wakes, activeMs: b.activeMs - a.activeMs, requests: b.requests - a.requests, webSocketMessages: b.webSocketMessages - a.webSocketMessages };
}

/** a − b, never below zero. */
export function minus(a: Activity, b: Activity): Activity {
  const d = since(b, a);
  return { wakes: Math.max(0, d.wakes), activeMs: Math.max(0, d.activeMs), requests: Math.max(0, d.requests), webSocketMessages: Math.max(0, d.webSocketMessages) };
}
