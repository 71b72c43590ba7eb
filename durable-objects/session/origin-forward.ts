/**
 * One request of a session on its way to the session's origin: plain HTTP (streamed both
 * ways), or a WebSocket relayed message by message with the protocol adapter's rewrites —
 * the origin's session id swapped for the client's token and back — and the relay handed
 * to the session's OpenConnections, so that ending the session can reach it.
 */
import { isWebSocketUpgrade, type ProtocolAdapter, type SessionIds } from "../../protocols/adapter.ts";
import { relayHttp, type RelayOutcome } from "../../relay/http-relay.ts";
import type { OpenConnections } from "./open-connections.ts";
import type { SessionRecord } from "./store.ts";
import type { OriginLink } from "../../relay/transport/origin-link.ts";
import { relayWebSocket, type CloseSide, type RelayedWebSocket } from "../../relay/websocket-relay.ts";
import { withoutEdgeClaims } from "../../protocols/origin-response.ts";
import { FAILURE_HEADER } from "./route.ts";

export interface ForwardContext {
  /** The client's name for the session. */
  readonly token: string;
  /** Send the token as the WebSocket's first message (opt-in, cookie-less clients). */
  readonly announce: boolean;
  /** Abandons an HTTP request still waiting for the origin (the session ended). */
  readonly signal: AbortSignal | undefined;
  readonly proxyAuthKeys: string | undefined;
  /** The origin's id for the session as known now (it may be learnt mid-stream). */
  originSessionId(): string | null;
  learnOriginSessionId(originSessionId: string): void;
  readonly open: OpenConnections;
  webSocketClosed(side: CloseSide, code: number, reason: string): void;
  /** The pool's WebSocket message limit (config/limits.ts). */
  readonly maxMessageBytes?: number;
}

export function forwardToOrigin(
  request: Request,
  record: SessionRecord,
  adapter: ProtocolAdapter,
  ctx: ForwardContext,
): Promise<RelayOutcome> {
  const link: OriginLink = {
    url: record.originUrl,
    transport: record.originTransport,
    sessionKey: record.sk,
    proxyAuthKeys: ctx.proxyAuthKeys,
  };
  if (!isWebSocketUpgrade(request)) return relayHttp(request, link, ctx.signal).then(originAnswer);
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
  let relayed: RelayedWebSocket | undefined;
  return relayWebSocket(request, link, {
    ...(ctx.maxMessageBytes === undefined ? {} : { maxMessageBytes: ctx.maxMessageBytes }),
    ...(ctx.announce ? { firstMessage: JSON.stringify({ type: "push-edge.affinity", token: ctx.token }) } : {}),
    ...(originMessage === undefined ? {} : { fromOrigin }),
    ...(clientMessage === undefined ? {} : { fromClient: (data: string) => clientMessage(data, ids) }),
    onOpen: (relay) => {
      relayed = relay;
      ctx.open.addWebSocket(relay);
    },
    onClose: (side, code, reason) => {
      if (relayed !== undefined) ctx.open.removeWebSocket(relayed);
      ctx.webSocketClosed(side, code, reason);
    },
  }).then(originAnswer);
}

/**
 * The one place an origin's response enters the edge: edge-owned headers an origin sent
 * (failure header, affinity cookie and token) go here, before the session object adds its own.
 */
function originAnswer(outcome: RelayOutcome): RelayOutcome {
  return outcome.ok ? { ok: true, response: withoutEdgeClaims(outcome.response, [FAILURE_HEADER]) } : outcome;
}
