/**
 * Edge configuration: pools keyed by host name, each with its origins. Parsed once per
 * isolate from the `POOLS` var and validated; every error names the bad field so an
 * operator can fix the config without reading code.
 */
import { ConfigError } from "./config-error.ts";
import { normalizeHostName } from "./host-name.ts";
import { resolvePoolSettings, type PoolSettings } from "./pool-settings.ts";
import { mergeHealth, resolveHealthOverride, validHealthInput, type HealthInput } from "./health-settings.ts";
import { parseProxyAuthKeys } from "../relay/transport/tcp/proxy-auth-keys.ts";
import { DEFAULT_PROXY_VERSION, type ProxySettings } from "../relay/transport/settings.ts";

/**
 * `fetch`: the runtime's HTTP client. `tcp`: a raw connection opened with a PROXY protocol
 * header naming the client, for origins behind (or expecting) an L4 proxy.
 */
export type OriginTransport = "fetch" | "tcp";

export interface OriginConfig {
  readonly id: string;
  /** Base URL of the origin's combined (or CREATE/CONTROL) listener, e.g. http://10.0.0.1:8080 */
  readonly url: string;
  /** Relative share of new sessions; 0 takes none. */
  readonly weight: number;
  /** Sessions the origin is meant to hold; load = sessions / capacity. */
  readonly capacity: number;
  readonly transport: OriginTransport;
  /** PROXY header settings; present exactly when transport is "tcp". */
  readonly proxy?: ProxySettings;
  /** This origin's own health check settings, over its pool's, as written (config/health-settings.ts). */
  readonly health?: HealthInput;
}

export interface PoolConfig {
  readonly name: string;
  readonly settings: PoolSettings;
  /** Host names served by this pool; "*" matches any host not claimed by another pool. */
  readonly hosts: readonly string[];
  readonly origins: readonly OriginConfig[];
}

export interface EdgeConfig {
  readonly pools: readonly PoolConfig[];
  readonly tokenTtlSeconds: number;
  /** Open relays one isolate holds before it refuses new sessions (0: no limit). */
  readonly maxOpenRelays: number;
}

export const DEFAULT_ORIGIN_WEIGHT = 1;
export const DEFAULT_ORIGIN_CAPACITY = 10_000;
export const DEFAULT_TOKEN_TTL_SECONDS = 24 * 60 * 60;
/**
 * A Worker isolate has 128 MB; an idle relayed WebSocket costs it tens of KiB (docs/performance.md),
 * so 4,000 leaves room for traffic. Refusing an S request costs one retry; an isolate
 * past its memory is killed with every session it pumps.
 */
export const DEFAULT_MAX_OPEN_RELAYS = 4_000;

export { ConfigError };

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function requireString(value: unknown, field: string): string {
  if (typeof value !== "string" || value.length === 0) throw new ConfigError(field, "must be a non-empty string");
  return value;
}

function optionalNumber(value: unknown, field: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min) {
    throw new ConfigError(field, `must be a number >= ${min}`);
  }
  return value;
}

const PROXY_OPTIONS = ["version", "authKid"];

/** The `proxy` options of a tcp origin; `authKids` are the kids PROXY_AUTH_KEYS holds. */
function resolveProxy(raw: unknown, field: string, authKids: ReadonlySet<string>): ProxySettings {
  if (raw === undefined) return { version: DEFAULT_PROXY_VERSION };
  if (!isRecord(raw)) throw new ConfigError(field, "must be an object");
  for (const key of Object.keys(raw)) {
    if (!PROXY_OPTIONS.includes(key)) throw new ConfigError(`${field}.${key}`, `unknown option (known: ${PROXY_OPTIONS.join(", ")})`);
  }
  const version = raw.version ?? DEFAULT_PROXY_VERSION;
  if (version !== 1 && version !== 2) throw new ConfigError(`${field}.version`, "must be 1 or 2");
  if (raw.authKid === undefined) return { version };
  const authKid = requireString(raw.authKid, `${field}.authKid`);
  // v1 is one text line: there is nowhere to put the authentication TLV.
  if (version !== 2) throw new ConfigError(`${field}.authKid`, "needs proxy.version 2 (v1 headers carry no TLVs)");
  if (!authKids.has(authKid)) throw new ConfigError(`${field}.authKid`, `PROXY_AUTH_KEYS has no key ${JSON.stringify(authKid)}`);
  return { version, authKid };
}

export function resolveOrigin(raw: unknown, field: string, authKids: ReadonlySet<string>): OriginConfig {
  if (!isRecord(raw)) throw new ConfigError(field, "must be an object");
  const id = requireString(raw.id, `${field}.id`);
  if (!ID_PATTERN.test(id)) throw new ConfigError(`${field}.id`, "must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
  const url = requireString(raw.url, `${field}.url`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`${field}.url`, `is not a URL: ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new ConfigError(`${field}.url`, "must be http: or https:");
  }
  const transport = raw.transport ?? "fetch";
  if (transport !== "fetch" && transport !== "tcp") throw new ConfigError(`${field}.transport`, 'must be "fetch" or "tcp"');
  if (transport === "fetch" && raw.proxy !== undefined) {
    throw new ConfigError(`${field}.proxy`, 'only applies to transport "tcp" (fetch() cannot send a PROXY header)');
  }
  return {
    id,
    url: parsed.origin,
    weight: optionalNumber(raw.weight, `${field}.weight`, DEFAULT_ORIGIN_WEIGHT, 0),
    capacity: optionalNumber(raw.capacity, `${field}.capacity`, DEFAULT_ORIGIN_CAPACITY, 1),
    transport,
    ...(transport === "tcp" ? { proxy: resolveProxy(raw.proxy, `${field}.proxy`, authKids) } : {}),
    ...(raw.health === undefined ? {} : { health: validHealthInput(raw.health, `${field}.health`) }),
  };
}

function resolvePool(raw: unknown, field: string, authKids: ReadonlySet<string>): PoolConfig {
  if (!isRecord(raw)) throw new ConfigError(field, "must be an object");
  const name = requireString(raw.name, `${field}.name`);
  if (!ID_PATTERN.test(name)) throw new ConfigError(`${field}.name`, "must match [A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
  const hostsRaw = raw.hosts ?? ["*"];
  if (!Array.isArray(hostsRaw) || hostsRaw.length === 0) {
    throw new ConfigError(`${field}.hosts`, "must be a non-empty array of host names");
  }
  const hosts = hostsRaw.map((h, i) => {
    const host = requireString(h, `${field}.hosts[${i}]`);
    return host === "*" ? host : normalizeHostName(host);
  });
  if (!Array.isArray(raw.origins) || raw.origins.length === 0) {
    throw new ConfigError(`${field}.origins`, "must be a non-empty array");
  }
  const origins = raw.origins.map((o, i) => resolveOrigin(o, `${field}.origins[${i}]`, authKids));
  const seen = new Set<string>();
  origins.forEach((o, i) => {
    if (seen.has(o.id)) throw new ConfigError(`${field}.origins[${i}].id`, `duplicate origin id ${JSON.stringify(o.id)}`);
    seen.add(o.id);
  });
  const settings = resolvePoolSettings(raw.settings, `${field}.settings`);
  origins.forEach((o, i) => mergeHealth(settings.health, resolveHealthOverride(o.health, `${field}.origins[${i}].health`), `${field}.origins[${i}].health`));
  return { name, hosts, origins, settings };
}

/** Parses and validates the edge configuration. Throws ConfigError naming the bad field. */
export function resolveConfig(vars: { POOLS?: string; TOKEN_TTL_SECONDS?: string; PROXY_AUTH_KEYS?: string; MAX_OPEN_RELAYS?: string }): EdgeConfig {
  const proxyKeys = parseProxyAuthKeys(vars.PROXY_AUTH_KEYS);
  if (!proxyKeys.ok) throw new ConfigError(proxyKeys.field, proxyKeys.message);
  const authKids = new Set(proxyKeys.keys.keys());
  if (vars.POOLS === undefined || vars.POOLS.trim() === "") throw new ConfigError("POOLS", "is not set");
  let raw: unknown;
  try {
    raw = JSON.parse(vars.POOLS);
  } catch (err) {
    throw new ConfigError("POOLS", `is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!isRecord(raw) || !Array.isArray(raw.pools) || raw.pools.length === 0) {
    throw new ConfigError("POOLS.pools", "must be a non-empty array");
  }
  const pools = raw.pools.map((p, i) => resolvePool(p, `POOLS.pools[${i}]`, authKids));
  const names = new Set<string>();
  const hosts = new Map<string, string>();
  pools.forEach((pool, i) => {
    if (names.has(pool.name)) throw new ConfigError(`POOLS.pools[${i}].name`, `duplicate pool name ${JSON.stringify(pool.name)}`);
    names.add(pool.name);
    pool.hosts.forEach((host, j) => {
      const owner = hosts.get(host);
      if (owner !== undefined) {
        throw new ConfigError(`POOLS.pools[${i}].hosts[${j}]`, `host ${JSON.stringify(host)} already belongs to pool ${owner}`);
      }
      hosts.set(host, pool.name);
    });
  });
  const ttlRaw = vars.TOKEN_TTL_SECONDS;
  const tokenTtlSeconds = ttlRaw === undefined || ttlRaw === "" ? DEFAULT_TOKEN_TTL_SECONDS : Number(ttlRaw);
  if (!Number.isInteger(tokenTtlSeconds) || tokenTtlSeconds < 60) {
    throw new ConfigError("TOKEN_TTL_SECONDS", "must be an integer number of seconds >= 60");
  }
  const relaysRaw = vars.MAX_OPEN_RELAYS;
  const maxOpenRelays = relaysRaw === undefined || relaysRaw === "" ? DEFAULT_MAX_OPEN_RELAYS : Number(relaysRaw);
  if (!Number.isInteger(maxOpenRelays) || maxOpenRelays < 0) {
    throw new ConfigError("MAX_OPEN_RELAYS", "must be an integer >= 0 (0: no limit)");
  }
  return { pools, tokenTtlSeconds, maxOpenRelays };
}

/**
 * The pool serving `host` (compared normalised: case, port and a trailing dot ignored —
 * host-name.ts): an exact host match, else the "*" pool, else none.
 */
export function poolForHost(config: EdgeConfig, host: string): PoolConfig | undefined {
  const bare = normalizeHostName(host);
  return (
    config.pools.find((p) => p.hosts.includes(bare)) ?? config.pools.find((p) => p.hosts.includes("*"))
  );
}
