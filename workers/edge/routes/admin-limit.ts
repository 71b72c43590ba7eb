/**
 * Admin brute force (F8 of issue 16): failed admin authentications are limited per client
 * network, and denials are logged in aggregate.
 *
 * Limit: at most ADMIN_FAILURE_LIMIT 401s per network (IPv4 /24, IPv6 /48 — one client
 * rarely holds more, and an attacker rotating addresses inside a /24 is still one network)
 * per ADMIN_WINDOW_MS fixed window. Past it, every admin request from that network gets
 * 429 with Retry-After until the window ends — before its token is looked at, so guessing
 * on during the lock-out learns nothing. Operators on the same network wait too; that is
 * the price of not letting a guess through. The count lives in this isolate's memory (no
 * I/O on the admin path): a fleet of isolates multiplies the rate an attacker gets, which
 * stays hopeless against a 32-character token (deploy:check) — the limit is what keeps a
 * flood of guesses from costing CPU and log volume without bound.
 *
 * Logging: one `admin_denied` line for a network's first denial in a window (why, who,
 * what), then counts only; one `admin_denied_summary` line when the network is locked
 * out, and one for a window whose further denials were not yet reported, when that
 * network next shows up. Never one line per attempt.
 */
import { log } from "../../../observability/log.ts";
import { networkPrefix } from "../token/network.ts";

export const ADMIN_FAILURE_LIMIT = 20;
export const ADMIN_WINDOW_MS = 60_000;
/** Networks tracked at once; the oldest windows are dropped first beyond this. */
const MAX_TRACKED = 10_000;

export type DenialWhy = "wrong token" | "no token" | "host";

interface Window {
  readonly start: number;
  /** 401s counted toward the limit. */
  failures: number;
  /** Every denial (401, 403 host, 429) by reason, for the log. */
  readonly why: Map<string, number>;
  denied: number;
  /** Denials already reported in a log line. */
  reported: number;
  locked: boolean;
}

const windows = new Map<string, Window>();

/** The network a request counts against: its /24 or /48, or "unknown" (no address: local dev). */
export function clientNetwork(ip: string | undefined): string {
  return (ip === undefined ? undefined : networkPrefix(ip)) ?? "unknown";
}

function current(network: string, now: number): Window {
  const existing = windows.get(network);
  if (existing !== undefined && now - existing.start < ADMIN_WINDOW_MS) return existing;
  if (existing !== undefined) {
    report(network, existing, now);
    windows.delete(network);
  }
  if (windows.size >= MAX_TRACKED) {
    const oldest = windows.keys().next().value;
    if (oldest !== undefined) windows.delete(oldest);
  }
  const fresh: Window = { start: now, failures: 0, why: new Map(), denied: 0, reported: 0, locked: false };
  windows.set(network, fresh);
  return fresh;
}

/** Seconds until this network may try again, or undefined when it is not locked out. */
export function lockedFor(network: string, now = Date.now()): number | undefined {
  const w = windows.get(network);
  if (w === undefined || now - w.start >= ADMIN_WINDOW_MS || w.failures < ADMIN_FAILURE_LIMIT) return undefined;
  count(w, "locked out");
  return Math.max(1, Math.ceil((w.start + ADMIN_WINDOW_MS - now) / 1000));
}

/**
 * Records a denied admin request. `failed`: a 401, which counts toward the limit (a host
 * refusal does not: it guesses nothing).
 */
export function noteDenied(
  network: string,
  why: DenialWhy,
  who: { readonly ip: string | null },
  what: { readonly method: string; readonly path: string },
  failed: boolean,
  now = Date.now(),
): void {
  const w = current(network, now);
  count(w, why);
  if (failed) w.failures += 1;
  if (w.denied === 1) {
    log("admin_denied", { why, who, what, network });
    w.reported = 1;
  }
  if (!w.locked && w.failures >= ADMIN_FAILURE_LIMIT) {
    w.locked = true;
    report(network, w, now);
  }
}

function count(w: Window, why: string): void {
  w.denied += 1;
  w.why.set(why, (w.why.get(why) ?? 0) + 1);
}

function report(network: string, w: Window, now: number): void {
  if (w.denied <= w.reported) return;
  w.reported = w.denied;
  log("admin_denied_summary", {
    network,
    denied: w.denied,
    why: Object.fromEntries(w.why),
    locked: w.failures >= ADMIN_FAILURE_LIMIT,
    since: new Date(w.start).toISOString(),
    until: new Date(Math.min(now, w.start + ADMIN_WINDOW_MS)).toISOString(),
  });
}
