/**
 * Relays a WebSocket between the client and the session's origin: the Durable Object
 * opens a WebSocket to the origin, pairs it with the client's, and forwards every message
 * (text stays text, binary stays binary) and the close code and reason, each way.
 *
 * The edge adds no idle timeout: a silent session stays open for as long as both ends
 * keep it. Protocol pings from the origin are answered by the runtime, and the origin's own
 * keep-alives pass through to the client.
 */
import { originHeaders, originTarget, type RelayOutcome } from "./http-relay.ts";
import { endTooBig, overMessageLimit } from "./message-limit.ts";
import type { OriginLink } from "./transport/origin-link.ts";
import { relayWebSocketOverTcp } from "./transport/tcp-websocket-relay.ts";

/** Who ended a relay first: one of its two ends, or the edge itself (the session ended). */
export type CloseSide = "client" | "origin" | "edge";

/** An open relay, as the session object holds it to end it on purpose. */
export interface RelayedWebSocket {
  /**
   * Sends `message` (if any) to the client, then closes the client's WebSocket with
   * `code`/`reason` and the origin's as going away. Reports `onClose("edge", …)`.
   */
  end(message: string | undefined, code: number, reason: string): void;
}

export interface WebSocketRelayHooks {
  /** Sent to the client before anything from the origin (opt-in token announcement). */
  readonly firstMessage?: string;
  /** Rewrites origin → client text messages (protocols that name the session in-band). */
  readonly fromOrigin?: (data: string) => string;
  /** Rewrites client → origin text messages. */
  readonly fromClient?: (data: string) => string;
  /** Called once the relay is open (before the 101 goes back), with its handle. */
  readonly onOpen?: (relay: RelayedWebSocket) => void;
  /** Called once per relay, with the side that closed (or failed) first. */
  onClose(side: CloseSide, code: number, reason: string): void;
  /** Largest message relayed either way; a bigger one ends the relay with 1009 (message-limit.ts). */
  readonly maxMessageBytes?: number;
}

/** What the origin hears when the edge ends the session: the client is going away. */
const ORIGIN_END_CODE = 1001;

/** Headers the runtime sets itself for the origin handshake; forwarding them would clash. */
const HANDSHAKE_HEADERS = ["sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "connection"];

/** Relays over the origin's transport: fetch() below, or a PROXY-protocol TCP connection. */
export async function relayWebSocket(request: Request, link: OriginLink, hooks: WebSocketRelayHooks): Promise<RelayOutcome> {
  if (link.transport.kind === "tcp") return relayWebSocketOverTcp(request, link, link.transport.proxy, hooks);
  const target = originTarget(request.url, link.url);
  const headers = originHeaders(request);
  for (const h of HANDSHAKE_HEADERS) headers.delete(h);
  headers.set("upgrade", "websocket");
  let upstream: Response;
  try {
    upstream = await fetch(target, { headers });
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
  const origin = upstream.webSocket;
  // The origin refused the upgrade (404 unknown session, 503 blocked...): its answer is the client's.
  if (origin === null) return { ok: true, response: upstream };

  const pair = new WebSocketPair();
  const client = pair[0];
  const server = pair[1];
  // Binary frames must stay bytes: with the standard default ("blob"), forwarding would
  // have to await each Blob, and a Blob passed to send() as-is is sent as its string form.
  origin.binaryType = "arraybuffer";
  server.binaryType = "arraybuffer";
  origin.accept();
  server.accept();
  if (hooks.firstMessage !== undefined) server.send(hooks.firstMessage);

  const closing = reportOnce(hooks.onClose);
  const onClose = closing.report;
  pipe(server, origin, "client", onClose, hooks.fromClient, hooks.maxMessageBytes);
  pipe(origin, server, "origin", onClose, hooks.fromOrigin, hooks.maxMessageBytes);
  hooks.onOpen?.(endableRelay(closing, server, (reason) => closeQuietly(origin, ORIGIN_END_CODE, reason)));

  const out = new Headers();
  for (const [name, value] of upstream.headers) {
    if (!HANDSHAKE_HEADERS.includes(name) && name !== "upgrade" && name !== "sec-websocket-accept") out.set(name, value);
  }
  return { ok: true, response: new Response(null, { status: 101, headers: out, webSocket: client }) };
}

/** Forwards messages from `from` to `to`, and `from`'s close to `to`. Never throws. */
function pipe(
  from: WebSocket,
  to: WebSocket,
  side: "client" | "origin",
  onClose: (side: "client" | "origin", code: number, reason: string) => void,
  rewrite: ((data: string) => string) | undefined,
  maxMessageBytes?: number,
): void {
  from.addEventListener("message", (event) => {
    if (overMessageLimit(event.data, maxMessageBytes)) return endTooBig(side, onClose, maxMessageBytes ?? 0, [from, to]);
    try {
      to.send(rewrite !== undefined && typeof event.data === "string" ? rewrite(event.data) : event.data);
    } catch {
      // `to` is already closing; its own close event ends the relay.
    }
  });
  from.addEventListener("close", (event) => {
    onClose(side, event.code, event.reason);
    closeQuietly(to, event.code, event.reason);
  });
  from.addEventListener("error", () => {
    onClose(side, 1011, "transport error");
    closeQuietly(to, 1011, `${side} connection failed`);
  });
}

/** Close codes that may be sent on the wire (1005/1006/1015 are reserved for reporting). */
/** A relay ends once, whichever side closes (or fails) first: the hook hears only that. */
export function reportOnce(onClose: WebSocketRelayHooks["onClose"]): { report: WebSocketRelayHooks["onClose"]; ended(): boolean } {
  let ended = false;
  return {
    report(side, code, reason) {
      if (ended) return;
      ended = true;
      onClose(side, code, reason);
    },
    ended: () => ended,
  };
}

/**
 * The handle by which the session object ends a relayed WebSocket on purpose: the client
 * hears `message` and the close; the origin side is closed by `closeOrigin`.
 */
export function endableRelay(
  closing: ReturnType<typeof reportOnce>,
  client: WebSocket,
  closeOrigin: (reason: string) => void,
): RelayedWebSocket {
  return {
    end(message, code, reason) {
      if (closing.ended()) return;
      closing.report("edge", code, reason);
      if (message !== undefined) sendQuietly(client, message);
      closeQuietly(client, code, reason);
      closeOrigin(reason);
    },
  };
}

export function sendableCode(code: number): number | undefined {
  if (code === 1000 || (code >= 1001 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999)) {
    return code;
  }
  return undefined;
}

/** A close reason fits in 123 UTF-8 bytes (RFC 6455 §5.5); longer ones are cut, whole characters only. */
export function closeReason(reason: string): string {
  const bytes = new TextEncoder().encode(reason);
  if (bytes.length <= 123) return reason;
  let cut = 123;
  // Back up to the start of a character (continuation bytes are 10xxxxxx).
  while (cut > 0 && ((bytes[cut] ?? 0) & 0xc0) === 0x80) cut--;
  return new TextDecoder().decode(bytes.subarray(0, cut));
}

export function sendQuietly(ws: WebSocket, message: string): void {
  try {
    ws.send(message);
  } catch {
    // Already closing.
  }
}

export function closeQuietly(ws: WebSocket, code: number, reason: string): void {
  try {
    const sendable = sendableCode(code);
    // 1006 (abnormal end) becomes 1011 so the peer learns the far side failed, not that all is well.
    if (sendable !== undefined) ws.close(sendable, closeReason(reason));
    else if (code === 1006) ws.close(1011, "peer connection lost");
    else ws.close();
  } catch {
    // Already closed.
  }
}
