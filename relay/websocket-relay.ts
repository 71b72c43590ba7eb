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
import { closePeer, pumpMessages, socketEnd, type Message, type MessageEnd } from "./message-pump.ts";
import type { OriginLink } from "./transport/origin-link.ts";
import { originTransport } from "./transport/origin-transport.ts";
import { originAnswer } from "../protocols/origin-response.ts";

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
  /**
   * Most bytes held queued toward either side that is not reading (queue-budget.ts): over
   * it the tcp origin is paused, else the relay ends with 1013. None: no budget.
   */
  readonly maxQueuedBytes?: number;
  /**
   * An already-accepted client socket (the first-message path): the relay pumps into it
   * instead of answering 101 with a new one, and marks the slot adopted.
   */
  readonly client?: ClientSlot;
}

/** A client WebSocket the edge accepted itself, with what it sent before its relay opened. */
export interface ClientSlot {
  readonly socket: WebSocket;
  /** Sent to the origin first, in order. */
  readonly backlog: Array<string | ArrayBuffer>;
  /** Set by the relay that took the socket over. */
  adopted: boolean;
}

/**
 * The client's end of a new relay: the slot's socket (its backlog is pumped first, as if just received),
 * or the server side of a new pair whose other side goes back in the 101.
 */
export function clientEnd(hooks: WebSocketRelayHooks): { end: MessageEnd; webSocket: WebSocket | null; backlog: Message[] } {
  const slot = hooks.client;
  if (slot === undefined) {
    const pair = new WebSocketPair();
    pair[1].accept();
    return { end: socketEnd(pair[1]), webSocket: pair[0], backlog: [] };
  }
  slot.adopted = true;
  return { end: socketEnd(slot.socket), webSocket: null, backlog: slot.backlog.splice(0) };
}

/** The answer for a relay that opened: the 101 with the client's new socket, or (adopted) a plain 204. */
export function openedResponse(webSocket: WebSocket | null, headers: Headers): Response {
  return webSocket === null ? new Response(null, { status: 204, headers }) : new Response(null, { status: 101, headers, webSocket });
}

/** Headers the runtime sets itself for the origin handshake; forwarding them would clash. */
const HANDSHAKE_HEADERS = ["sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "connection"];

/** Relays over the origin's transport (fetch() below, or a PROXY-protocol TCP connection). */
export function relayWebSocket(request: Request, link: OriginLink, hooks: WebSocketRelayHooks): Promise<RelayOutcome> {
  return originTransport(link.transport).webSocket(request, link, hooks).then(originAnswer);
}

/** The `fetch` transport's WebSocket (transport/origin-transport.ts). */
export async function relayWebSocketOverFetch(request: Request, link: OriginLink, hooks: WebSocketRelayHooks): Promise<RelayOutcome> {
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

  origin.accept();
  const originEnd = socketEnd(origin);
  const client = clientEnd(hooks);
  const relay = pumpMessages(client.end, originEnd, hooks, client.backlog);
  hooks.onOpen?.(relay);

  const out = new Headers();
  for (const [name, value] of upstream.headers) {
    if (!HANDSHAKE_HEADERS.includes(name) && name !== "upgrade" && name !== "sec-websocket-accept") out.set(name, value);
  }
  return { ok: true, response: openedResponse(client.webSocket, out) };
}

export { closeReason, sendableCode } from "./message-pump.ts";

export function sendQuietly(ws: WebSocket, message: string): void {
  try {
    ws.send(message);
  } catch {
    // Already closing.
  }
}

/** Closes `ws` as its peer should hear `code` (message-pump.ts closePeer). Never throws. */
export function closeQuietly(ws: WebSocket, code: number, reason: string): void {
  closePeer({ close: (c, r) => (c === undefined ? ws.close() : ws.close(c, r)) }, code, reason);
}
