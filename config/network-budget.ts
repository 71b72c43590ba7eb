/**
 * The per-client-network S budget (POOLS.pools[i].settings.networkBudget): how many
 * session-creating requests one client network may make per 10-second window before the
 * edge answers `429` with `Retry-After`, in the protocol's words. A network is the
 * client's address (CF-Connecting-IP) cut to `ipv4Prefix` / `ipv6Prefix` bits: one host
 * flooding S requests, or a /24 of them, spends one budget and leaves the rest of the
 * pool's capacity — and its origins' admission control — to everyone else.
 *
 * Default 600 per 10 s (60 new sessions per second, sustained, per /24 or /48): a busy
 * office or carrier NAT reconnecting after a network blip stays well under it; a flood is
 * cut to it. 0 turns the budget off.
 */
import { ConfigError } from "./config-error.ts";

export interface NetworkBudget {
  /** S requests per network per window; 0 = no budget. */
  readonly sessions: number;
  readonly ipv4Prefix: number;
  readonly ipv6Prefix: number;
}

/** The Workers Rate Limiting binding counts in windows of 10 or 60 seconds; the edge uses 10. */
export const BUDGET_WINDOW_SECONDS = 10;

export const DEFAULT_NETWORK_BUDGET: NetworkBudget = { sessions: 600, ipv4Prefix: 24, ipv6Prefix: 48 };

/**
 * The binding's limit (wrangler.toml [[ratelimits]] S_BUDGET): units per window, of which
 * each S request spends BUDGET_UNITS / budget, rounded down — so a budget is kept to within
 * budget² / BUDGET_UNITS + 1 requests (at most 1 % over at the largest budget).
 */
export const BUDGET_UNITS = 1_000_000;
export const MAX_BUDGET = 10_000;

const KNOWN = ["sessions", "ipv4Prefix", "ipv6Prefix"];

function integer(raw: unknown, field: string, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  if (typeof raw !== "number" || !Number.isInteger(raw) || raw < min || raw > max) {
    throw new ConfigError(field, `must be an integer in [${min}, ${max}]`);
  }
  return raw;
}

export function resolveNetworkBudget(raw: unknown, field: string): NetworkBudget {
  if (raw === undefined) return DEFAULT_NETWORK_BUDGET;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new ConfigError(field, "must be an object");
  const r = raw as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    if (!KNOWN.includes(key)) throw new ConfigError(`${field}.${key}`, `unknown setting (known: ${KNOWN.join(", ")})`);
  }
  const d = DEFAULT_NETWORK_BUDGET;
  return {
    sessions: integer(r.sessions, `${field}.sessions`, d.sessions, 0, MAX_BUDGET),
    ipv4Prefix: integer(r.ipv4Prefix, `${field}.ipv4Prefix`, d.ipv4Prefix, 8, 32),
    ipv6Prefix: integer(r.ipv6Prefix, `${field}.ipv6Prefix`, d.ipv6Prefix, 16, 128),
  };
}
