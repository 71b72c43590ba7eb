/**
 * A pool's edge path policy (POOLS.pools[i].settings.pathPolicy), like HAProxy's
 * `http-request deny if { path_beg /admin }`: which request paths the edge relays to the
 * pool's origins at all. Origins often serve operational endpoints (admin hooks, debug
 * dumps, metrics) on the same port as their public protocol; a public edge must not turn
 * those into public endpoints (issue 16 F2).
 *
 *   "pathPolicy": { "deny": ["/admin/*", "/_debug/*"], "allow": ["/lightstreamer*"] }
 *
 * - `deny`: a path matching any pattern is refused (403 `forbidden`). Default
 *   `["/admin/*", "/_debug/*"]`; give `[]` to switch the default off on purpose.
 * - `allow`: when set, a path must also match one of these. Default: unset (all paths
 *   not denied).
 * - A pattern starts with `/`; `*` matches any run of characters (slashes included);
 *   a trailing `/*` also matches the bare prefix (`/admin/*` matches `/admin`). Matching
 *   ignores case.
 *
 * Paths are compared as an origin might read them, not only as they were sent: percent-
 * decoded (once and repeatedly), with `//` collapsed, dot segments resolved and `;params`
 * dropped (servlet containers ignore them). A request passes only if every one of these
 * readings passes — `/%61dmin/state`, `//admin/state`, `/x/..%2fadmin` and
 * `/admin;a=b/state` are all `/admin/state` to somebody.
 */
import { ConfigError } from "./config-error.ts";

export interface PathPolicy {
  readonly deny: readonly string[];
  /** Null: every path that is not denied. */
  readonly allow: readonly string[] | null;
}

export const DEFAULT_DENIED_PATHS: readonly string[] = ["/admin/*", "/_debug/*"];
export const DEFAULT_PATH_POLICY: PathPolicy = { deny: DEFAULT_DENIED_PATHS, allow: null };

const MAX_PATTERNS = 64;
const MAX_PATTERN_LENGTH = 256;

function patterns(raw: unknown, field: string): string[] {
  if (!Array.isArray(raw)) throw new ConfigError(field, "must be an array of path patterns");
  if (raw.length > MAX_PATTERNS) throw new ConfigError(field, `must hold at most ${MAX_PATTERNS} patterns`);
  return raw.map((p: unknown, i) => {
    if (typeof p !== "string" || !p.startsWith("/") || p.length > MAX_PATTERN_LENGTH) {
      throw new ConfigError(`${field}[${i}]`, `must be a path pattern starting with "/" (at most ${MAX_PATTERN_LENGTH} characters)`);
    }
    return p.toLowerCase();
  });
}

/** Resolves `settings.pathPolicy`; every error names the field. */
export function resolvePathPolicy(raw: unknown, field: string): PathPolicy {
  if (raw === undefined) return DEFAULT_PATH_POLICY;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new ConfigError(field, "must be an object");
  const record = raw as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (key !== "deny" && key !== "allow") throw new ConfigError(`${field}.${key}`, "unknown setting (known: deny, allow)");
  }
  return {
    deny: record.deny === undefined ? DEFAULT_DENIED_PATHS : patterns(record.deny, `${field}.deny`),
    allow: record.allow === undefined ? null : patterns(record.allow, `${field}.allow`),
  };
}

/** Whether `path` (already lower-cased) matches `pattern` (see the file comment). */
export function pathMatches(pattern: string, path: string): boolean {
  if (pattern.endsWith("/*") && path === pattern.slice(0, -2)) return true;
  const parts = pattern.split("*");
  const first = parts[0] ?? "";
  if (!path.startsWith(first)) return false;
  let at = first.length;
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i] ?? "";
    if (i === parts.length - 1) return part === "" || (path.length - part.length >= at && path.endsWith(part));
    const found = path.indexOf(part, at);
    if (found === -1) return false;
    at = found + part.length;
  }
  return path.length === at;
}

const MAX_DECODE_ROUNDS = 4;

/**
 * A path that `normalise` and the decoding rounds below would give back unchanged (but for
 * case): it starts with `/` and has no `%`, `\\`, `;`, empty segment, `.` or `..` segment.
 */
const PLAIN_PATH = /^(?!.*(?:[%\\;]|\/\/|\/\.\.?(?:\/|$)))\//s;

/** The readings of a URL path an origin might act on (see the file comment), lower-cased. */
export function pathReadings(pathname: string): Set<string> {
  // Most paths have nothing to decode or normalise: their one reading is themselves.
  return PLAIN_PATH.test(pathname) ? new Set([pathname.toLowerCase()]) : decodedReadings(pathname);
}

/** Every reading, by normalising and decoding round after round (exported for its test). */
export function decodedReadings(pathname: string): Set<string> {
  const out = new Set<string>();
  let current = pathname;
  for (let round = 0; round < MAX_DECODE_ROUNDS; round++) {
    const normal = normalise(current);
    out.add(normal);
    out.add(normalise(current.replace(/;[^/]*/g, "")));
    let decoded: string;
    try {
      decoded = decodeURIComponent(current);
    } catch {
      break;
    }
    if (decoded === current) break;
    current = decoded;
  }
  return out;
}

function normalise(path: string): string {
  const segments: string[] = [];
  for (const segment of path.replace(/\\/g, "/").split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(segment);
  }
  const trailing = path.endsWith("/") && segments.length > 0 ? "/" : "";
  return `/${segments.join("/")}${trailing}`.toLowerCase();
}

/** The pattern that refuses `pathname`, or "not allowed", or undefined when it may pass. */
export function pathRefusal(policy: PathPolicy, pathname: string): string | undefined {
  for (const reading of pathReadings(pathname)) {
    const denied = policy.deny.find((p) => pathMatches(p, reading));
    if (denied !== undefined) return denied;
    if (policy.allow !== null && !policy.allow.some((p) => pathMatches(p, reading))) return "not in allow";
  }
  return undefined;
}
