/**
 * How a pool checks its origins (POOLS.pools[i].settings.health), overridable per origin
 * (POOLS.pools[i].origins[j].health). Every error names the field.
 *
 *   type  — "http": GET `path`, the status must be in `expect.status`, the body must
 *                   contain `expect.body` when set; a JSON body with state / sessions /
 *                   capacity / instance is read when present (push-edge's own contract).
 *           "tcp":  the origin accepts a connection (with the PROXY header a `tcp`
 *                   transport origin expects).
 *           "probe": the protocol adapter's own probe (`protocol`, e.g. "engine.io").
 *           "none": passive only — real traffic marks it down, `rise` intervals bring it back.
 *   absent — the default ("auto"): a TCP connect, which any server passes while it listens,
 *            plus push-edge's richer JSON `/health` for origins that answer it.
 */
import { ConfigError } from "./config-error.ts";

export type HealthCheckType = "auto" | "http" | "tcp" | "probe" | "none";

/** An inclusive range of HTTP statuses. */
export interface StatusRange {
  readonly min: number;
  readonly max: number;
}

export interface HealthSettings {
  /** "auto" stands for "no type given": the default described above. */
  readonly type: HealthCheckType;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Consecutive good checks before an unhealthy origin takes sessions again. */
  readonly rise: number;
  /** Consecutive failed checks before a healthy origin stops taking sessions. */
  readonly fall: number;
  /** The http check's path (and where "auto" looks for push-edge's JSON report). */
  readonly path: string;
  /** Statuses the http check accepts. */
  readonly expectStatus: readonly StatusRange[];
  /** Text the http check's body must contain (absent: any body). */
  readonly expectBody?: string;
  /** The adapter whose probe "probe" runs. */
  readonly protocol?: string;
}

/** What an origin may override: any field of its pool's health settings. */
export type HealthOverride = Partial<HealthSettings>;

/**
 * An origin's `health` as the operator wrote it (validated): kept in that form on the
 * origin's configuration so it round-trips through the admin API and the coordinator's
 * storage; resolved where it is used.
 */
export type HealthInput = { readonly [key: string]: HealthInputValue | { readonly [key: string]: HealthInputValue } };
/** JSON values a health section holds (its shape is checked by resolveHealthOverride). */
type HealthInputValue = string | number | boolean | null | readonly (string | number)[];

/** Validates an origin's `health` and returns it as written. Throws ConfigError naming the field. */
export function validHealthInput(raw: unknown, field: string): HealthInput {
  resolveHealthOverride(raw, field);
  return raw as HealthInput;
}

export const DEFAULT_HEALTH_SETTINGS: HealthSettings = {
  type: "auto",
  intervalMs: 2_000,
  timeoutMs: 1_500,
  rise: 2,
  fall: 2,
  path: "/health",
  expectStatus: [{ min: 200, max: 399 }],
};

/** Adapters that provide a probe (protocols/health-probes.ts keeps the list in step). */
export const PROBE_PROTOCOLS: readonly string[] = ["engine.io"];

const TYPES = ["http", "tcp", "none", "probe"] as const;
const KNOWN = ["type", "intervalMs", "timeoutMs", "rise", "fall", "path", "expect", "protocol"];
const EXPECT_KNOWN = ["status", "body"];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function num(value: unknown, field: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    throw new ConfigError(field, max === Number.POSITIVE_INFINITY ? `must be a number >= ${min}` : `must be a number in [${min}, ${max}]`);
  }
  return value;
}

/** `200`, `"200-399"`, or an array of those. */
function statusSet(raw: unknown, field: string): StatusRange[] {
  const items = Array.isArray(raw) ? raw : [raw];
  if (items.length === 0) throw new ConfigError(field, 'must not be empty (e.g. 200, "200-399" or [200, 204])');
  return items.map((item, i) => {
    const at = Array.isArray(raw) ? `${field}[${i}]` : field;
    if (typeof item === "number" && Number.isInteger(item) && item >= 100 && item <= 599) return { min: item, max: item };
    const m = typeof item === "string" ? /^\s*(\d{3})\s*-\s*(\d{3})\s*$/.exec(item) : null;
    const min = Number(m?.[1]);
    const max = Number(m?.[2]);
    if (m === null || min < 100 || max > 599 || min > max) {
      throw new ConfigError(at, 'expected a status (100-599) or a range like "200-399"');
    }
    return { min, max };
  });
}

/**
 * Reads the fields of a health section that are present (an origin's override, or a pool's
 * section before defaults apply). Throws ConfigError naming the bad field.
 */
export function resolveHealthOverride(raw: unknown, field: string): HealthOverride {
  if (raw === undefined) return {};
  if (!isRecord(raw)) throw new ConfigError(field, "must be an object");
  for (const key of Object.keys(raw)) {
    if (!KNOWN.includes(key)) throw new ConfigError(`${field}.${key}`, `unknown setting (known: ${KNOWN.join(", ")})`);
  }
  const out: { -readonly [K in keyof HealthSettings]?: HealthSettings[K] } = {};
  if (raw.type !== undefined) {
    if (!TYPES.includes(raw.type as (typeof TYPES)[number])) {
      throw new ConfigError(`${field}.type`, `expected ${TYPES.map((t) => `"${t}"`).join(" | ")} (or leave it out for the default: a TCP connect, plus push-edge's JSON /health where served)`);
    }
    out.type = raw.type as HealthCheckType;
  }
  const intervalMs = num(raw.intervalMs, `${field}.intervalMs`, 200, 3_600_000);
  const timeoutMs = num(raw.timeoutMs, `${field}.timeoutMs`, 50, 600_000);
  const rise = num(raw.rise, `${field}.rise`, 1, 100);
  const fall = num(raw.fall, `${field}.fall`, 1, 100);
  if (intervalMs !== undefined) out.intervalMs = intervalMs;
  if (timeoutMs !== undefined) out.timeoutMs = timeoutMs;
  if (rise !== undefined) out.rise = rise;
  if (fall !== undefined) out.fall = fall;
  if (raw.path !== undefined) {
    if (typeof raw.path !== "string" || !raw.path.startsWith("/") || /[\s#]/.test(raw.path)) {
      throw new ConfigError(`${field}.path`, 'must be a path starting with "/" (query allowed, no spaces)');
    }
    out.path = raw.path;
  }
  if (raw.expect !== undefined) {
    if (!isRecord(raw.expect)) throw new ConfigError(`${field}.expect`, 'must be an object like {"status": "200-399", "body": "OK"}');
    for (const key of Object.keys(raw.expect)) {
      if (!EXPECT_KNOWN.includes(key)) throw new ConfigError(`${field}.expect.${key}`, `unknown setting (known: ${EXPECT_KNOWN.join(", ")})`);
    }
    if (raw.expect.status !== undefined) out.expectStatus = statusSet(raw.expect.status, `${field}.expect.status`);
    if (raw.expect.body !== undefined) {
      if (typeof raw.expect.body !== "string" || raw.expect.body === "") throw new ConfigError(`${field}.expect.body`, "must be a non-empty string");
      out.expectBody = raw.expect.body;
    }
  }
  if (raw.protocol !== undefined) {
    if (typeof raw.protocol !== "string" || !PROBE_PROTOCOLS.includes(raw.protocol)) {
      throw new ConfigError(`${field}.protocol`, `expected ${PROBE_PROTOCOLS.map((p) => `"${p}"`).join(" | ")} (the adapters that provide a probe)`);
    }
    out.protocol = raw.protocol;
  }
  return out;
}

/** An origin's effective settings: its override over its pool's. Throws naming `field` when they do not fit together. */
export function mergeHealth(pool: HealthSettings, override: HealthOverride | undefined, field: string): HealthSettings {
  const merged: HealthSettings = { ...pool, ...override };
  if (merged.timeoutMs >= merged.intervalMs) throw new ConfigError(`${field}.timeoutMs`, "must be less than health.intervalMs");
  if (merged.type === "probe" && merged.protocol === undefined) {
    throw new ConfigError(`${field}.protocol`, `type "probe" needs a protocol: ${PROBE_PROTOCOLS.map((p) => `"${p}"`).join(" | ")}`);
  }
  if ((override?.expectBody !== undefined || override?.expectStatus !== undefined) && merged.type !== "http") {
    throw new ConfigError(`${field}.expect`, 'only applies to type "http"');
  }
  return merged;
}

/** A pool's health section with defaults applied. */
export function resolveHealthSettings(raw: unknown, field: string): HealthSettings {
  return mergeHealth(DEFAULT_HEALTH_SETTINGS, resolveHealthOverride(raw, field), field);
}

/** An origin's settings for use (validated with the config already): its pool's if they do not fit. */
export function effectiveHealth(pool: HealthSettings, input: HealthInput | undefined): HealthSettings {
  const base = { ...DEFAULT_HEALTH_SETTINGS, ...pool };
  try {
    return mergeHealth(base, resolveHealthOverride(input, "health"), "health");
  } catch {
    return base;
  }
}

/** The check in words, for the pool view, the CLI and the dashboard. */
export function describeHealthCheck(h: HealthSettings): string {
  const every = `every ${h.intervalMs} ms, timeout ${h.timeoutMs} ms, rise ${h.rise}, fall ${h.fall}`;
  const status = h.expectStatus.map((r) => (r.min === r.max ? String(r.min) : `${r.min}-${r.max}`)).join(", ");
  const what: Record<HealthCheckType, string> = {
    auto: `default: TCP connect, and push-edge's JSON report at ${h.path} where served`,
    http: `http: GET ${h.path}, expect ${status}${h.expectBody === undefined ? "" : ` and body containing ${JSON.stringify(h.expectBody)}`}`,
    tcp: "tcp: connect",
    probe: `probe: ${h.protocol ?? "?"}`,
    none: "none: passive only",
  };
  return `${what[h.type]} (${every})`;
}
