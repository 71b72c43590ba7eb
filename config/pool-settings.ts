/**
 * A pool's operating settings (POOLS.pools[i].settings): health checking, session expiry,
 * rebalancing, admission control and slow start. Every field has a default, and every
 * error names the field.
 */
import { ConfigError } from "./config-error.ts";
import { DEFAULT_LIMITS, resolveLimits, type Limits } from "./limits.ts";
import { DEFAULT_RELAY_MODE, resolveRelayMode, type RelayMode } from "./relay-mode.ts";

export interface HealthSettings {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Consecutive good checks before an unhealthy origin takes sessions again. */
  readonly rise: number;
  /** Consecutive failed checks before a healthy origin stops taking sessions. */
  readonly fall: number;
}

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
  /** Where long-lived legs are pumped (relay-mode.ts). */
  readonly relay: RelayMode;
}

export const DEFAULT_POOL_SETTINGS: PoolSettings = {
  health: { intervalMs: 2_000, timeoutMs: 1_500, rise: 2, fall: 2 },
  maxSessionSeconds: 0,
  expiryJitter: 0.1,
  rebalance: { enabled: true, tolerance: 1.15, sessionsPerSecond: 5, minSessionsPerOrigin: 5, windowSeconds: 600 },
  admission: { sessionsPerSecond: 0, burst: 50 },
  slowStartSeconds: 10,
  limits: DEFAULT_LIMITS,
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
  const s = section(raw, field, ["health", "maxSessionSeconds", "expiryJitter", "rebalance", "admission", "slowStartSeconds", "limits", "relay"]);
  const h = section(s.health, `${field}.health`, ["intervalMs", "timeoutMs", "rise", "fall"]);
  const r = section(s.rebalance, `${field}.rebalance`, ["enabled", "tolerance", "sessionsPerSecond", "minSessionsPerOrigin", "windowSeconds"]);
  const a = section(s.admission, `${field}.admission`, ["sessionsPerSecond", "burst"]);
  if (r.enabled !== undefined && typeof r.enabled !== "boolean") throw new ConfigError(`${field}.rebalance.enabled`, "must be true or false");
  const health = {
    intervalMs: num(h.intervalMs, `${field}.health.intervalMs`, d.health.intervalMs, 200),
    timeoutMs: num(h.timeoutMs, `${field}.health.timeoutMs`, d.health.timeoutMs, 50),
    rise: num(h.rise, `${field}.health.rise`, d.health.rise, 1, 100),
    fall: num(h.fall, `${field}.health.fall`, d.health.fall, 1, 100),
  };
  if (health.timeoutMs >= health.intervalMs) throw new ConfigError(`${field}.health.timeoutMs`, "must be less than health.intervalMs");
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
    relay: resolveRelayMode(s.relay, `${field}.relay`),
  };
}
