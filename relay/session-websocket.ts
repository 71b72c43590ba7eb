/**
 * A session's WebSocket relayed to its origin with the protocol adapter's rewrites — the
 * origin's session id swapped for the client's token and back, and the origin's id learnt
 * from its messages. The same code runs in the session object (relay mode `object`) and in
 * the edge Worker (relay mode `edge`); only the hooks differ.
 */
import type { ProtocolAdapter, SessionIds } from "../protocols/adapter.ts";
import type { RelayOutcome } from "./http-relay.ts";
import type { OriginLink } from "./transport/origin-link.ts";
import { relayWebSocket, type ClientSlot, type CloseSide, type RelayedWebSocket } from "./websocket-relay.ts";

export interface SessionWebSocketContext {
  /** The client's name for the session. */
  readonly token: string;
  /** Send the token as the WebSocket's first message (opt-in, cookie-less clients). */
  readonly announce: boolean;
  /** The origin's id for the session as known now (it may be learnt mid-stream). */
  originSessionId(): string | null;
  learnOriginSessionId(originSessionId: string): void;
  /** The pool's WebSocket message limit (config/limits.ts). */
  readonly maxMessageBytes?: number;
  /** The pool's WebSocket queue budget (config/limits.ts, relay/queue-budget.ts). */
  readonly maxQueuedBytes?: number;
  onOpen(relay: RelayedWebSocket): void;
  onClose(side: CloseSide, code: number, reason: string): void;
  /** An already-accepted client socket to pump into (websocket-relay.ts ClientSlot). */
  readonly client?: ClientSlot;
}

export function relaySessionWebSocket(
  request: Request,
  link: OriginLink,
  adapter: ProtocolAdapter,
  ctx: SessionWebSocketContext,
): Promise<RelayOutcome> {
  // One object per relay, not per message: the origin's id is read when an adapter asks.
  const ids: SessionIds = {
    token: ctx.token,
    get originSessionId() {
      return ctx.originSessionId();
    },
  };
  // Every origin message is offered to the adapter: a protocol may name the session
  // again later (TLCP answers each WebSocket poll with a fresh CONOK).
  const originMessage = adapter.originMessage;
  const fromOrigin = (data: string): string => {
    const rewritten = originMessage?.(data, ids);
    if (rewritten === undefined) return data;
    if (rewritten.originSessionId !== undefined) ctx.learnOriginSessionId(rewritten.originSessionId);
    return rewritten.data;
  };
  const clientMessage = adapter.clientMessage;
  return relayWebSocket(request, link, {
    ...(ctx.maxMessageBytes === undefined ? {} : { maxMessageBytes: ctx.maxMessageBytes }),
    ...(ctx.maxQueuedBytes === undefined ? {} : { maxQueuedBytes: ctx.maxQueuedBytes }),
    ...(ctx.announce ? { firstMessage: JSON.stringify({ type: "push-edge.affinity", token: ctx.token }) } : {}),
    ...(originMessage === undefined ? {} : { fromOrigin }),
    ...(clientMessage === undefined ? {} : { fromClient: (data: string) => clientMessage(data, ids) }),
    onOpen: (relay) => ctx.onOpen(relay),
    onClose: (side, code, reason) => ctx.onClose(side, code, reason),
    ...(ctx.client === undefined ? {} : { client: ctx.client }),
  });
}
