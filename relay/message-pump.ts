/**
 * The one pump that moves WebSocket messages between a client and an origin, wherever it
 * runs (the session object in relay mode `object`, the edge Worker in mode `edge`, the
 * first-message path between a client and its session) and whatever carries the origin's
 * side (a runtime WebSocket from fetch(), or the tcp transport's RFC 6455 client): text
 * stays text, binary stays binary, each side's close code and reason reach the other, the
 * message limit, the queue budget and the protocol's rewrites apply, and the relay ends once.
 */
import { endTooBig, overMessageLimit } from "./message-limit.ts";
import { CLOSE_QUEUE_FULL } from "../config/limits.ts";
import { bufferedAmountOf, watchQueue, type QueueWatch, type QueuedEnd } from "./queue-budget.ts";
import type { CloseSide, RelayedWebSocket, WebSocketRelayHooks } from "./websocket-relay.ts";
import { relayOpened } from "./open-relays.ts";

export type Message = string | ArrayBuffer;

/** One end of a relay: what the pump needs of a WebSocket, whoever implements it. */
export interface MessageEnd extends QueuedEnd {
  send(data: Message): void;
  /** Closes with a code that may go on the wire (the pump maps reserved ones first); none: no status. */
  close(code?: number, reason?: string): void;
  /** Registers the pump's handlers; the end delivers nothing before this. */
  listen(handlers: EndHandlers): void;
}

export interface EndHandlers {
  message(data: Message): void;
  close(code: number, reason: string): void;
  error(): void;
}

/** What the origin hears when the edge ends the session: the client is going away. */
const ORIGIN_END_CODE = 1001;

/** An accepted runtime WebSocket (either side of a WebSocketPair, or fetch()'s) as a MessageEnd. */
export function socketEnd(ws: WebSocket): MessageEnd {
  // Binary frames must stay bytes: with the standard default ("blob"), forwarding would
  // have to await each Blob, and a Blob passed to send() as-is is sent as its string form.
  ws.binaryType = "arraybuffer";
  return {
    send: (data) => ws.send(data),
    queuedBytes: () => bufferedAmountOf(ws),
    close: (code, reason) => (code === undefined ? ws.close() : ws.close(code, reason)),
    listen(handlers) {
      ws.addEventListener("message", (event) => handlers.message(event.data as Message));
      ws.addEventListener("close", (event) => handlers.close(event.code, event.reason));
      ws.addEventListener("error", () => handlers.error());
    },
  };
}

/**
 * Pumps between `client` and `origin` (after `clientBacklog`, messages the client sent
 * before the relay opened) until either ends (or `end()` is called on the
 * returned handle). `hooks.onClose` hears the side that ended first, once.
 */
export function pumpMessages(client: MessageEnd, origin: MessageEnd, hooks: WebSocketRelayHooks, clientBacklog: readonly Message[] = []): RelayedWebSocket {
  let ended = false;
  const released = relayOpened();
  const watches: QueueWatch[] = [];
  const report = (side: CloseSide, code: number, reason: string): void => {
    if (ended) return;
    ended = true;
    released();
    for (const watch of watches) watch.stop();
    hooks.onClose(side, code, reason);
  };
  /** The queue toward `side` stays within the budget (queue-budget.ts): the source paused, or the relay ended with 1013. */
  const budget = (side: "client" | "origin", source: MessageEnd, target: MessageEnd): QueueWatch | undefined => {
    const maxBytes = hooks.maxQueuedBytes;
    if (maxBytes === undefined) return undefined;
    const watch = watchQueue(side, source, target, maxBytes, (reason) => {
      report(side, CLOSE_QUEUE_FULL, reason);
      closePeer(client, CLOSE_QUEUE_FULL, reason);
      closePeer(origin, CLOSE_QUEUE_FULL, reason);
    });
    watches.push(watch);
    return watch;
  };
  if (hooks.firstMessage !== undefined) sendQuietly(client, hooks.firstMessage);
  const forward = (from: "client" | "origin", to: MessageEnd, rewrite: ((data: string) => string) | undefined, queue: QueueWatch | undefined): EndHandlers => ({
    message(data) {
      if (ended) return;
      if (overMessageLimit(data, hooks.maxMessageBytes)) return endTooBig(from, report, hooks.maxMessageBytes ?? 0, [closer(client), closer(origin)]);
      try {
        to.send(rewrite !== undefined && typeof data === "string" ? rewrite(data) : data);
      } catch {
        // `to` is already closing (its own close ends the relay), or a rewrite threw: that
        // one message is lost, not the session.
      }
      queue?.afterSend();
    },
    close(code, reason) {
      report(from, code, reason);
      closePeer(to, code, reason);
    },
    error() {
      report(from, 1011, "transport error");
      closePeer(to, 1011, `${from} connection failed`);
    },
  });
  const fromClient = forward("client", origin, hooks.fromClient, budget("origin", client, origin));
  client.listen(fromClient);
  origin.listen(forward("origin", client, hooks.fromOrigin, budget("client", origin, client)));
  // What the client sent before the relay opened goes first, the same way as the rest.
  for (const message of clientBacklog) fromClient.message(message);
  return {
    end(message, code, reason) {
      if (ended) return;
      report("edge", code, reason);
      if (message !== undefined) sendQuietly(client, message);
      closePeer(client, code, reason);
      closePeer(origin, ORIGIN_END_CODE, reason);
    },
  };
}

function closer(end: MessageEnd): { close(code: number, reason: string): void } {
  return { close: (code, reason) => closePeer(end, code, reason) };
}

function sendQuietly(end: MessageEnd, message: string): void {
  try {
    end.send(message);
  } catch {
    // Already closing.
  }
}

/** Close codes that may be sent on the wire (1005/1006/1015 are reserved for reporting). */
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

/**
 * Passes a close on as the peer should hear it: 1006 (the other side vanished) becomes
 * 1011 so the peer learns the far side failed; other reserved codes close without one.
 */
export function closePeer(end: Pick<MessageEnd, "close">, code: number, reason: string): void {
  try {
    const sendable = sendableCode(code);
    if (sendable !== undefined) end.close(sendable, closeReason(reason));
    else if (code === 1006) end.close(1011, "peer connection lost");
    else end.close();
  } catch {
    // Already closed.
  }
}
