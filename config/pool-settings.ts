/**
 * A pool's operating settings (POOLS.pools[i].settings): health checking, session expiry,
 * rebalancing, admission control and slow start. Every field has a default, and every
 * error names the field.
 */
import { ConfigError } from "./config-error.ts";
import { DEFAULT_LIMITS, resolveLimits, type Limits } from "./limits.ts";
import { DEFAULT_ALLOWED_ORIGINS, resolveAllowedOrigins, type AllowedOrigins } from "./allowed-origins.ts";
import { DEFAULT_HEALTH_SETTINGS, resolveHealthSettings, type HealthSettings } from "./health-settings.ts";
import { DEFAULT_SESSION_START, resolveSessionStart, type SessionStart } from "./session-start.ts";
import { DEFAULT_SESSION_LIFETIME, resolveSessionLifetime, type SessionLifetime } from "./session-lifetime.ts";
import { DEFAULT_NETWORK_BUDGET, resolveNetworkBudget, type NetworkBudget } from "./network-budget.ts";
import { DEFAULT_PATH_POLICY, resolvePathPolicy, type PathPolicy } from "./path-policy.ts";
import { DEFAULT_RELAY_MODE, resolveRelayMode, type RelayMode } from "./relay-mode.ts";

export type { HealthSettings } from "./health-settings.ts";

export interface PoolSettings {
  readonly health: HealthSettings;
  /** Maximum session lifetime (Lightstreamer's max_session_duration_minutes); 0 = none. */
  readonly maxSessionSeconds: number;
  /** Expiries are spread over [max, max × (1 + jitter)] so a reconnect storm's sessions don't all end together. */
  readonly expiryJitter: number;
  readonly rebalance: {
    readonly enabled: boolean;
    /** Rebalance while the most loaded origin's load exceeds the mean by this factor. */
    readonly tolerance: number;
    /** Sessions ended per second at most, pool-wide, to move them. */
    readonly sessionsPerSecond: number;
    /** Below this many sessions per origin on average, imbalance is not worth moving anyone. */
    readonly minSessionsPerOrigin: number;
    /**
     * Rebalancing runs for this long after an origin joins or recovers — the imbalance a
     * classic balancer never undoes. Outside it, P2C keeps the spread and nobody is moved
     * for the random variance of a small pool.
     */
    readonly windowSeconds: number;
  };
  readonly admission: {
    /** New sessions per second each origin may be given (0 = unlimited). */
    readonly sessionsPerSecond: number;
    /** How many may come at once before the rate applies. */
    readonly burst: number;
  };
  /** An origin that (re)joins ramps from 10% to its full weight over this time. */
  readonly slowStartSeconds: number;
  /** Input limits (limits.ts). */
  readonly limits: Limits;
  /** Web origins allowed to use a session through its cookie (allowed-origins.ts). */
  readonly allowedOrigins: AllowedOrigins;
  /** Which tokenless requests open a session; the others pass or are refused (session-start.ts). */
  readonly sessionStart: SessionStart;
  /** Retention of ended sessions, idle end (session-lifetime.ts). */
  readonly sessionLifetime: SessionLifetime;
  /** S requests per client network (network-budget.ts). */
  readonly networkBudget: NetworkBudget;
  /** Which request paths the edge relays to the pool's origins (path-policy.ts). */
  readonly pathPolicy: PathPolicy;
  /** Where long-lived legs are pumped (relay-mode.ts). */
  readonly relay: RelayMode;
}

export const DEFAULT_POOL_SETTINGS: PoolSettings = {
  health: DEFAULT_HEALTH_SETTINGS,
  maxSessionSeconds: 0,
  expiryJitter: 0.1,
  rebalance: { enabled: true, tolerance: 1.15, sessionsPerSecond: 5, minSessionsPerOrigin: 5, windowSeconds: 600 },
  admission: { sessionsPerSecond: 0, burst: 50 },
  slowStartSeconds: 10,
  limits: DEFAULT_LIMITS,
  allowedOrigins: DEFAULT_ALLOWED_ORIGINS,
  sessionStart: DEFAULT_SESSION_START,
  sessionLifetime: DEFAULT_SESSION_LIFETIME,
  networkBudget: DEFAULT_NETWORK_BUDGET,
  pathPolicy: DEFAULT_PATH_POLICY,
  relay: DEFAULT_RELAY_MODE,
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function section(raw: unknown, field: string, known: readonly string[]): Record<string, unknown> {
  if (raw === undefined) return {};
  if (!isRecord(raw)) throw new ConfigError(field, "must be an object");
  for (const key of Object.keys(raw)) {
    if (!known.includes(key)) throw new ConfigError(`${field}.${key}`, `unknown setting (known: ${known.join(", ")})`);
  }
  return raw;
}

function num(value: unknown, field: string, fallback: number, min: number, max = Number.POSITIVE_INFINITY): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    throw new ConfigError(field, max === Number.POSITIVE_INFINITY ? `must be a number >= ${min}` : `must be a number in [${min}, ${max}]`);
  }
  return value;
}

export function resolvePoolSettings(raw: unknown, field: string): PoolSettings {
  const d = DEFAULT_POOL_SETTINGS;
  const s = section(raw, field, ["health", "maxSessionSeconds", "expiryJitter", "rebalance", "admission", "slowStartSeconds", "limits",
    "allowedOrigins", "sessionStart", "sessionLifetime", "networkBudget", "pathPolicy", "relay"]);
  const r = section(s.rebalance, `${field}.rebalance`, ["enabled", "tolerance", "sessionsPerSecond", "minSessionsPerOrigin", "windowSeconds"]);
  const a = section(s.admission, `${field}.admission`, ["sessionsPerSecond", "burst"]);
  if (r.enabled !== undefined && typeof r.enabled !== "boolean") throw new ConfigError(`${field}.rebalance.enabled`, "must be true or false");
  const health = resolveHealthSettings(s.health, `${field}.health`);
  return {
    health,
    maxSessionSeconds: num(s.maxSessionSeconds, `${field}.maxSessionSeconds`, d.maxSessionSeconds, 0),
    expiryJitter: num(s.expiryJitter, `${field}.expiryJitter`, d.expiryJitter, 0, 1),
    rebalance: {
      enabled: r.enabled === undefined ? d.rebalance.enabled : r.enabled === true,
      tolerance: num(r.tolerance, `${field}.rebalance.tolerance`, d.rebalance.tolerance, 1.01),
      sessionsPerSecond: num(r.sessionsPerSecond, `${field}.rebalance.sessionsPerSecond`, d.rebalance.sessionsPerSecond, 0.1),
      minSessionsPerOrigin: num(r.minSessionsPerOrigin, `${field}.rebalance.minSessionsPerOrigin`, d.rebalance.minSessionsPerOrigin, 0),
      windowSeconds: num(r.windowSeconds, `${field}.rebalance.windowSeconds`, d.rebalance.windowSeconds, 1),
    },
    admission: {
      sessionsPerSecond: num(a.sessionsPerSecond, `${field}.admission.sessionsPerSecond`, d.admission.sessionsPerSecond, 0),
      burst: num(a.burst, `${field}.admission.burst`, d.admission.burst, 1),
    },
    slowStartSeconds: num(s.slowStartSeconds, `${field}.slowStartSeconds`, d.slowStartSeconds, 0),
    limits: resolveLimits(s.limits, `${field}.limits`),
    allowedOrigins: resolveAllowedOrigins(s.allowedOrigins, `${field}.allowedOrigins`),
    sessionStart: resolveSessionStart(s.sessionStart, `${field}.sessionStart`),
    sessionLifetime: resolveSessionLifetime(s.sessionLifetime, `${field}.sessionLifetime`),
    networkBudget: resolveNetworkBudget(s.networkBudget, `${field}.networkBudget`),
    pathPolicy: resolvePathPolicy(s.pathPolicy, `${field}.pathPolicy`),
    relay: resolveRelayMode(s.relay, `${field}.relay`),
  };
}
