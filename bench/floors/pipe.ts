/**
 * What both floor Workers share: the origin list they are given, the origin URL for a
 * request, and the smallest WebSocket relay the platform allows — open a WebSocket to
 * the origin with fetch(), accept a pair for the client, forward every message and the
 * close each way. No limits, no rewriting, no hooks: this is the floor the edge's own
 * relay is measured against, so it must do nothing the edge could leave out.
 */

export interface FloorOrigin {
  readonly id: string;
  readonly url: string;
}

/** `ORIGINS` is a JSON list of {id, url} (the bench writes it); parsed once per isolate. */
let parsed: { raw: string; origins: FloorOrigin[] } | undefined;

export function originsOf(raw: string): FloorOrigin[] {
  if (parsed?.raw === raw) return parsed.origins;
  const value: unknown = JSON.parse(raw);
  if (!Array.isArray(value) || value.length === 0) throw new TypeError("ORIGINS: expected a non-empty JSON list of {id, url}");
  const origins = value.map((o: unknown, i) => {
    if (typeof o !== "object" || o === null) throw new TypeError(`ORIGINS[${i}]: expected {id, url}`);
    const { id, url } = o as Record<string, unknown>;
    if (typeof id !== "string" || typeof url !== "string") throw new TypeError(`ORIGINS[${i}]: expected {id, url} strings`);
    return { id, url };
  });
  parsed = { raw, origins };
  return origins;
}

let next = 0;

/** Round robin per isolate, as a classic balancer spreads new sessions. */
export function nextOrigin(origins: readonly FloorOrigin[]): FloorOrigin {
  const origin = origins[next % origins.length];
  next += 1;
  if (origin === undefined) throw new TypeError("no origin");
  return origin;
}

/** The request's path and query on `originUrl`. */
export function onOrigin(requestUrl: string, originUrl: string): string {
  const url = new URL(requestUrl);
  return `${originUrl}${url.pathname}${url.search}`;
}

export function isWebSocket(request: Request): boolean {
  return request.headers.get("upgrade")?.toLowerCase() === "websocket";
}

/** Headers the runtime writes itself for the origin handshake. */
const HANDSHAKE = ["sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "connection", "host"];

/** Relays a WebSocket upgrade to `target`; `headers` are added to the 101. */
export async function relayWebSocket(request: Request, target: string, headers?: Headers): Promise<Response> {
  const out = new Headers(request.headers);
  for (const h of HANDSHAKE) out.delete(h);
  out.set("upgrade", "websocket");
  const upstream = await fetch(target, { headers: out });
  const origin = upstream.webSocket;
  if (origin === null) return upstream;
  const pair = new WebSocketPair();
  const client = pair[0];
  const server = pair[1];
  origin.binaryType = "arraybuffer";
  server.binaryType = "arraybuffer";
  origin.accept();
  server.accept();
  pipe(server, origin);
  pipe(origin, server);
  return new Response(null, { status: 101, webSocket: client, ...(headers === undefined ? {} : { headers }) });
}

function pipe(from: WebSocket, to: WebSocket): void {
  from.addEventListener("message", (event) => {
    try {
      to.send(event.data);
    } catch {
      // `to` is closing; its close event ends the pair.
    }
  });
  from.addEventListener("close", (event) => closeQuietly(to, event.code, event.reason));
  from.addEventListener("error", () => closeQuietly(to, 1011, "peer failed"));
}

function closeQuietly(ws: WebSocket, code: number, reason: string): void {
  // 1005/1006/1015 report a close; they may not be sent.
  const sendable = code === 1000 || (code >= 1001 && code <= 1014 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
  try {
    ws.close(sendable ? code : 1000, reason);
  } catch {
    // Already closed.
  }
}
