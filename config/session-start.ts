/**
 * Which tokenless requests open a session, for protocols that do not say so themselves
 * (the generic protocol: TLCP and Engine.IO know their own session-creating requests),
 * and what happens to a tokenless request that opens none (POOLS.pools[i].settings.sessionStart).
 *
 * Why: a session object, its SQLite database, its registry entry and its event log are
 * state the operator pays for. `/favicon.ico`, `/robots.txt`, a crawler's `/` or a
 * scanner's `/.env` must not create any of it.
 *
 * `unmatched` defaults to "pass" (relayed statelessly to a healthy origin, like a plain
 * balancer serves a page's assets): existing origins keep working unchanged — a browser's
 * CORS preflight before a TLCP `create_session`, the Socket.IO server's own
 * `/socket.io/socket.io.js`, a status page — and such a request costs one subrequest and
 * no storage. "reject" answers them `404 not_a_session_request` without reaching an origin.
 *
 * Paths are matched exactly, with `*` standing for any run of characters within one path
 * segment and `**` for any run of characters across segments (`/session-*`, `/api/**`).
 */
import { ConfigError } from "./config-error.ts";

export interface SessionRequestRule {
  /** Upper-case methods; empty = any method. */
  readonly methods: readonly string[];
  readonly path: string;
}

export interface SessionStart {
  readonly requests: readonly SessionRequestRule[];
  /** Every tokenless WebSocket upgrade opens a session, whatever its path. */
  readonly anyWebSocket: boolean;
  readonly unmatched: "pass" | "reject";
}

/** The reference origin's and the README's session-creating requests: `POST /session`, WebSockets (`/ws`). */
export const DEFAULT_SESSION_START: SessionStart = {
  requests: [{ methods: ["POST"], path: "/session" }],
  anyWebSocket: true,
  unmatched: "pass",
};

const KNOWN = ["requests", "anyWebSocket", "unmatched"];
const METHOD = /^[A-Z]{1,20}$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function resolveRule(raw: unknown, field: string): SessionRequestRule {
  if (!isRecord(raw)) throw new ConfigError(field, 'must be an object like {"methods": ["POST"], "path": "/session"}');
  for (const key of Object.keys(raw)) {
    if (key !== "methods" && key !== "path") throw new ConfigError(`${field}.${key}`, "unknown setting (known: methods, path)");
  }
  if (typeof raw.path !== "string" || !raw.path.startsWith("/")) throw new ConfigError(`${field}.path`, 'must be a path starting with "/"');
  const methodsRaw = raw.methods ?? [];
  if (!Array.isArray(methodsRaw)) throw new ConfigError(`${field}.methods`, 'must be an array of HTTP methods like ["POST"]');
  const methods = methodsRaw.map((m, i) => {
    if (typeof m !== "string" || !METHOD.test(m.toUpperCase())) throw new ConfigError(`${field}.methods[${i}]`, "must be an HTTP method name");
    return m.toUpperCase();
  });
  return { methods, path: raw.path };
}

export function resolveSessionStart(raw: unknown, field: string): SessionStart {
  if (raw === undefined) return DEFAULT_SESSION_START;
  if (!isRecord(raw)) throw new ConfigError(field, "must be an object");
  for (const key of Object.keys(raw)) {
    if (!KNOWN.includes(key)) throw new ConfigError(`${field}.${key}`, `unknown setting (known: ${KNOWN.join(", ")})`);
  }
  let requests = DEFAULT_SESSION_START.requests;
  if (raw.requests !== undefined) {
    if (!Array.isArray(raw.requests)) throw new ConfigError(`${field}.requests`, "must be an array of {methods, path}");
    requests = raw.requests.map((r, i) => resolveRule(r, `${field}.requests[${i}]`));
  }
  if (raw.anyWebSocket !== undefined && typeof raw.anyWebSocket !== "boolean") {
    throw new ConfigError(`${field}.anyWebSocket`, "must be true or false");
  }
  const unmatched = raw.unmatched ?? DEFAULT_SESSION_START.unmatched;
  if (unmatched !== "pass" && unmatched !== "reject") throw new ConfigError(`${field}.unmatched`, 'must be "pass" or "reject"');
  const anyWebSocket = raw.anyWebSocket ?? DEFAULT_SESSION_START.anyWebSocket;
  return { requests, anyWebSocket, unmatched };
}

/** Compiled patterns, by pattern: settings travel as JSON (pool snapshots), so they hold strings. */
const compiled = new Map<string, RegExp>();

function patternRegExp(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (re === undefined) {
    const source = pattern
      .split("**")
      .map((part) => part.split("*").map(escape).join("[^/]*"))
      .join(".*");
    re = new RegExp(`^${source}$`);
    compiled.set(pattern, re);
  }
  return re;
}

function escape(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
}

/** Whether a tokenless request opens a session under these rules. */
export function opensSession(rules: SessionStart, method: string, path: string, webSocket: boolean): boolean {
  if (webSocket && rules.anyWebSocket) return true;
  return rules.requests.some((r) => (r.methods.length === 0 || r.methods.includes(method)) && patternRegExp(r.path).test(path));
}
