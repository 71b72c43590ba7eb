/**
 * How the session object reaches its origin: `fetch` (the runtime's HTTP client) or `tcp`
 * (a raw connection that starts with a PROXY protocol header, then speaks HTTP/1.1 and
 * WebSocket framing itself). The edge's configuration decides per origin; the create
 * route carries the choice to the session object, which stores it with the session, so a
 * config change never switches the transport of a session under way.
 */

export type ProxyVersion = 1 | 2;

export interface ProxySettings {
  /** PROXY protocol version written at the start of every connection (v2 carries TLVs). */
  readonly version: ProxyVersion;
  /** Key id in PROXY_AUTH_KEYS that signs the header (v2 only); absent: no auth TLV. */
  readonly authKid?: string;
}

export type TransportSettings =
  | { readonly kind: "fetch" }
  | { readonly kind: "tcp"; readonly proxy: ProxySettings };

export const FETCH_TRANSPORT: TransportSettings = { kind: "fetch" };
export const DEFAULT_PROXY_VERSION: ProxyVersion = 2;

/** What travels in the route and sits in storage: flat JSON, readable by an older reader. */
export interface TransportWire {
  readonly transport?: "fetch" | "tcp";
  readonly proxy?: ProxySettings;
}

export function transportToWire(settings: TransportSettings): TransportWire {
  return settings.kind === "fetch" ? {} : { transport: "tcp", proxy: settings.proxy };
}

/**
 * Reads the wire form back. Undefined when it is malformed (a route the edge did not
 * write, or storage from the future); an absent transport is `fetch`, which is what every
 * session created before the transport existed used.
 */
export function transportFromWire(raw: { transport?: unknown; proxy?: unknown }): TransportSettings | undefined {
  if (raw.transport === undefined || raw.transport === "fetch") {
    return raw.proxy === undefined ? FETCH_TRANSPORT : undefined;
  }
  if (raw.transport !== "tcp") return undefined;
  const proxy = proxyFromWire(raw.proxy);
  return proxy === undefined ? undefined : { kind: "tcp", proxy };
}

function proxyFromWire(raw: unknown): ProxySettings | undefined {
  if (raw === undefined) return { version: DEFAULT_PROXY_VERSION };
  if (typeof raw !== "object" || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  if (r.version !== 1 && r.version !== 2) return undefined;
  if (r.authKid === undefined) return { version: r.version };
  if (typeof r.authKid !== "string" || r.version !== 2) return undefined;
  return { version: r.version, authKid: r.authKid };
}
