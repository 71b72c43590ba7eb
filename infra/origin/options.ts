// Origin configuration: the public option types, their defaults, and one resolve step
// whose errors name the bad field (the CLI prefixes them with the flag).

import { createAddressMatcher, type AddressMatcher } from "./address-match.ts";
import type { ProxyAuth } from "./proxy-auth.ts";
import { V1_MAX_LENGTH } from "./proxy-protocol-v1.ts";
import { DEFAULT_V2_MAX_LENGTH } from "./proxy-protocol-v2.ts";
import type { RequestLogEntry } from "./request-log.ts";

/**
 * `admin` serves only the operational endpoints (/health, /admin/state, /_debug/requests);
 * the session kinds never serve /admin/state or /_debug/requests, so the listener an edge
 * relays to cannot be made to block the node or list other clients (issue 16 F2).
 */
export type ListenerKind = "combined" | "create" | "control" | "admin";
export type ProxyMode = "require" | "accept" | "refuse";
export type UntrustedProxyPolicy = "reject" | "ignore";
export type ProxyAuthMode = "require" | "off";
export type OriginState = "active" | "draining" | "blocked";

export const LISTENER_KINDS: readonly ListenerKind[] = ["combined", "create", "control", "admin"];
export const PROXY_MODES: readonly ProxyMode[] = ["require", "accept", "refuse"];
export const UNTRUSTED_POLICIES: readonly UntrustedProxyPolicy[] = ["reject", "ignore"];
export const PROXY_AUTH_MODES: readonly ProxyAuthMode[] = ["require", "off"];
export const ORIGIN_STATES: readonly OriginState[] = ["active", "draining", "blocked"];

export type ListenerOptions = {
  kind: ListenerKind;
  host: string;
  /** 0 picks an ephemeral port; read the real one back from RunningOrigin.listeners. */
  port: number;
  // Per-listener overrides of the origin-wide PROXY settings.
  proxy?: ProxyMode;
  proxyTrusted?: readonly string[];
  proxyUntrusted?: UntrustedProxyPolicy;
  proxyTimeoutMs?: number;
  proxyMaxHeaderBytes?: number;
  /** Whether PROXY headers naming a client must carry push-edge's auth TLV (needs proxyAuthKeys). */
  proxyAuth?: ProxyAuthMode;
};

export type OriginOptions = {
  id: string;
  listeners: readonly ListenerOptions[];
  proxy?: ProxyMode;
  proxyTrusted?: readonly string[];
  proxyUntrusted?: UntrustedProxyPolicy;
  /** How long a new connection may take to send its PROXY header (or first bytes). */
  proxyTimeoutMs?: number;
  /**
   * The largest PROXY v2 header (preamble, addresses and TLVs) a connection may send;
   * a bigger one is refused from its length field, before its body arrives.
   */
  proxyMaxHeaderBytes?: number;
  /**
   * Keys (kid → HMAC key) for push-edge's PROXY authentication TLV. When set, every
   * listener requires it on headers that name a client, unless the listener says "off".
   */
  proxyAuthKeys?: ReadonlyMap<string, Uint8Array>;
  /** How far an auth TLV's issued-at may be from this clock. */
  proxyAuthMaxSkewMs?: number;
  /** Peers whose Forwarded / X-Forwarded-For headers are believed. */
  forwardedTrusted?: readonly string[];
  /** Default tick period for streams and WebSockets; 0 = only pushed events. */
  intervalMs?: number;
  /** SSE comment sent after this much silence on a stream. */
  keepAliveMs?: number;
  /** WebSocket protocol ping period; a peer that misses a whole period is dropped. */
  pingIntervalMs?: number;
  /** A session with no open stream or WebSocket for this long is forgotten. */
  sessionIdleMs?: number;
  /** Open sessions this origin accepts before answering 503 origin_full. */
  capacity?: number;
  state?: OriginState;
  /** Entries kept for GET /_debug/requests. */
  requestLogSize?: number;
  /** TLCP: period of the DEMO adapter set's `clock` item updates. */
  tlcpClockMs?: number;
  /** TLCP: keep-alive announced in CONOK when the client asks for none (PROBE comes sooner). */
  tlcpKeepAliveMs?: number;
  /** TLCP: a session with no bound stream (or poll) for this long is forgotten. */
  tlcpSessionExpiryMs?: number;
  /** Called once per logged request (the CLI prints it as a JSON line). */
  onRequest?: (entry: RequestLogEntry) => void;
  /** The edge's JWKS: CR requests must then carry a valid edge token for this origin (edge-token.ts). */
  jwksUrl?: string;
};

export const DEFAULT_LOOPBACK: readonly string[] = ["127.0.0.1", "::1"];
export const DEFAULTS = {
  proxy: "accept",
  proxyUntrusted: "reject",
  proxyTimeoutMs: 3_000,
  proxyMaxHeaderBytes: DEFAULT_V2_MAX_LENGTH,
  proxyAuthMaxSkewMs: 60_000,
  intervalMs: 1_000,
  keepAliveMs: 15_000,
  pingIntervalMs: 15_000,
  sessionIdleMs: 60_000,
  capacity: 1_000,
  state: "active",
  requestLogSize: 1_000,
  tlcpClockMs: 100,
  tlcpKeepAliveMs: 5_000,
  tlcpSessionExpiryMs: 30_000,
} as const;

export type ResolvedListener = {
  kind: ListenerKind;
  host: string;
  port: number;
  proxy: ProxyMode;
  proxyTrusted: AddressMatcher;
  proxyUntrusted: UntrustedProxyPolicy;
  proxyTimeoutMs: number;
  /** Largest PROXY v2 header accepted (v1 headers are bounded by the spec: 107 bytes). */
  proxyMaxHeaderBytes: number;
  /** Null: PROXY headers are not checked for push-edge's auth TLV on this listener. */
  proxyAuth: ProxyAuth | null;
};

export type ResolvedOptions = {
  id: string;
  listeners: ResolvedListener[];
  forwardedTrusted: AddressMatcher;
  intervalMs: number;
  keepAliveMs: number;
  pingIntervalMs: number;
  sessionIdleMs: number;
  capacity: number;
  state: OriginState;
  requestLogSize: number;
  tlcpClockMs: number;
  tlcpKeepAliveMs: number;
  tlcpSessionExpiryMs: number;
  onRequest: ((entry: RequestLogEntry) => void) | undefined;
  jwksUrl: URL | undefined;
};

/** Error whose `field` names the option (or CLI flag) that was wrong. */
export class OptionError extends TypeError {
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = "OptionError";
    this.field = field;
  }
}

export function resolveOriginOptions(options: OriginOptions): ResolvedOptions {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(options.id)) {
    throw new OptionError("id", `must be 1-64 characters of [A-Za-z0-9._-], got ${JSON.stringify(options.id)}`);
  }
  if (options.listeners.length === 0) throw new OptionError("listeners", "at least one listener is required");
  const proxy = oneOf("proxy", options.proxy ?? DEFAULTS.proxy, PROXY_MODES);
  const proxyUntrusted = oneOf("proxyUntrusted", options.proxyUntrusted ?? DEFAULTS.proxyUntrusted, UNTRUSTED_POLICIES);
  const proxyTimeoutMs = duration("proxyTimeoutMs", options.proxyTimeoutMs ?? DEFAULTS.proxyTimeoutMs, 1);
  const proxyMaxHeaderBytes = headerBytes("proxyMaxHeaderBytes", options.proxyMaxHeaderBytes ?? DEFAULTS.proxyMaxHeaderBytes);
  const proxyTrustedEntries = options.proxyTrusted ?? DEFAULT_LOOPBACK;
  const proxyTrusted = matcher("proxyTrusted", proxyTrustedEntries);
  const proxyAuth = resolveProxyAuth(options);

  const listeners = options.listeners.map((listener, index): ResolvedListener => {
    const field = `listeners[${index}]`;
    const port = listener.port;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new OptionError(`${field}.port`, `must be an integer 0-65535, got ${String(port)}`);
    }
    if (listener.host.trim() === "") throw new OptionError(`${field}.host`, "must not be empty");
    return {
      kind: oneOf(`${field}.kind`, listener.kind, LISTENER_KINDS),
      host: listener.host,
      port,
      proxy: oneOf(`${field}.proxy`, listener.proxy ?? proxy, PROXY_MODES),
      proxyTrusted: listener.proxyTrusted === undefined ? proxyTrusted : matcher(`${field}.proxyTrusted`, listener.proxyTrusted),
      proxyUntrusted: oneOf(`${field}.proxyUntrusted`, listener.proxyUntrusted ?? proxyUntrusted, UNTRUSTED_POLICIES),
      proxyTimeoutMs: duration(`${field}.proxyTimeoutMs`, listener.proxyTimeoutMs ?? proxyTimeoutMs, 1),
      proxyMaxHeaderBytes: headerBytes(`${field}.proxyMaxHeaderBytes`, listener.proxyMaxHeaderBytes ?? proxyMaxHeaderBytes),
      proxyAuth: listenerProxyAuth(`${field}.proxyAuth`, listener.proxyAuth, proxyAuth),
    };
  });

  return {
    id: options.id,
    listeners,
    forwardedTrusted: matcher("forwardedTrusted", options.forwardedTrusted ?? DEFAULT_LOOPBACK),
    intervalMs: duration("intervalMs", options.intervalMs ?? DEFAULTS.intervalMs, 0),
    keepAliveMs: duration("keepAliveMs", options.keepAliveMs ?? DEFAULTS.keepAliveMs, 1),
    pingIntervalMs: duration("pingIntervalMs", options.pingIntervalMs ?? DEFAULTS.pingIntervalMs, 1),
    sessionIdleMs: duration("sessionIdleMs", options.sessionIdleMs ?? DEFAULTS.sessionIdleMs, 1),
    capacity: count("capacity", options.capacity ?? DEFAULTS.capacity),
    state: oneOf("state", options.state ?? DEFAULTS.state, ORIGIN_STATES),
    requestLogSize: count("requestLogSize", options.requestLogSize ?? DEFAULTS.requestLogSize),
    tlcpClockMs: duration("tlcpClockMs", options.tlcpClockMs ?? DEFAULTS.tlcpClockMs, 1),
    tlcpKeepAliveMs: duration("tlcpKeepAliveMs", options.tlcpKeepAliveMs ?? DEFAULTS.tlcpKeepAliveMs, 100),
    tlcpSessionExpiryMs: duration("tlcpSessionExpiryMs", options.tlcpSessionExpiryMs ?? DEFAULTS.tlcpSessionExpiryMs, 1),
    onRequest: options.onRequest,
    jwksUrl: options.jwksUrl === undefined ? undefined : httpUrl("jwksUrl", options.jwksUrl),
  };
}

function resolveProxyAuth(options: OriginOptions): ProxyAuth | null {
  const skew = duration("proxyAuthMaxSkewMs", options.proxyAuthMaxSkewMs ?? DEFAULTS.proxyAuthMaxSkewMs, 1);
  if (options.proxyAuthKeys === undefined) return null;
  if (options.proxyAuthKeys.size === 0) throw new OptionError("proxyAuthKeys", "holds no key");
  const keys = new Map<string, Buffer>();
  for (const [kid, key] of options.proxyAuthKeys) {
    if (key.length < 32) throw new OptionError("proxyAuthKeys", `key ${JSON.stringify(kid)} is shorter than 32 bytes`);
    keys.set(kid, Buffer.from(key));
  }
  return { keys, maxSkewMs: skew };
}

function listenerProxyAuth(field: string, mode: ProxyAuthMode | undefined, auth: ProxyAuth | null): ProxyAuth | null {
  const resolved = oneOf(field, mode ?? (auth === null ? "off" : "require"), PROXY_AUTH_MODES);
  if (resolved === "off") return null;
  if (auth === null) throw new OptionError(field, "require needs proxyAuthKeys (--proxy-auth-keys-file)");
  return auth;
}

export function isOneOf<T extends string>(value: unknown, allowed: readonly T[]): value is T {
  return typeof value === "string" && (allowed as readonly string[]).includes(value);
}

function oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (isOneOf(value, allowed)) return value;
  throw new OptionError(field, `must be one of ${allowed.join("|")}, got ${JSON.stringify(value)}`);
}

// Timer values above 2^31-1 ms overflow setTimeout and fire immediately.
const MAX_TIMER_MS = 2_147_483_647;

function duration(field: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min || value > MAX_TIMER_MS) {
    throw new OptionError(field, `must be an integer number of milliseconds >= ${min}, got ${String(value)}`);
  }
  return value;
}

/** A v2 header is 16 bytes + a u16 length; below 108 even a v1-sized header would not fit. */
const MIN_PROXY_HEADER_BYTES = V1_MAX_LENGTH + 1;
const MAX_PROXY_HEADER_BYTES = 16 + 0xffff;

function headerBytes(field: string, value: number): number {
  if (!Number.isInteger(value) || value < MIN_PROXY_HEADER_BYTES || value > MAX_PROXY_HEADER_BYTES) {
    throw new OptionError(field, `must be an integer number of bytes in [${MIN_PROXY_HEADER_BYTES}, ${MAX_PROXY_HEADER_BYTES}], got ${String(value)}`);
  }
  return value;
}

function httpUrl(field: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OptionError(field, `must be an http(s) URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new OptionError(field, `must be an http(s) URL, got ${JSON.stringify(value)}`);
  return url;
}

function count(field: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new OptionError(field, `must be a positive integer, got ${String(value)}`);
  }
  return value;
}

function matcher(field: string, entries: readonly string[]): AddressMatcher {
  try {
    return createAddressMatcher(entries);
  } catch (error) {
    throw new OptionError(field, error instanceof Error ? error.message : String(error));
  }
}
