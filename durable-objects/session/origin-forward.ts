/**
 * One request of a session on its way to the session's origin: plain HTTP (streamed both
 * ways), or a WebSocket relayed message by message with the protocol adapter's rewrites —
 * the origin's session id swapped for the client's token and back — and the relay handed
 * to the session's OpenConnections, so that ending the session can reach it.
 */
import { isWebSocketUpgrade, type ProtocolAdapter } from "../../protocols/adapter.ts";
import { relayHttp, type RelayOutcome } from "../../relay/http-relay.ts";
import type { OpenConnections } from "./open-connections.ts";
import type { SessionRecord } from "./store.ts";
import type { OriginLink } from "../../relay/transport/origin-link.ts";
import type { CloseSide, RelayedWebSocket } from "../../relay/websocket-relay.ts";
import { relaySessionWebSocket } from "../../relay/session-websocket.ts";

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
  /** The pool's WebSocket queue budget (config/limits.ts). */
  readonly maxQueuedBytes?: number;
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
  if (!isWebSocketUpgrade(request)) return relayHttp(request, link, ctx.signal);
  let relayed: RelayedWebSocket | undefined;
  return relaySessionWebSocket(request, link, adapter, {
    token: ctx.token,
    announce: ctx.announce,
    originSessionId: () => ctx.originSessionId(),
    learnOriginSessionId: (id) => ctx.learnOriginSessionId(id),
    ...(ctx.maxMessageBytes === undefined ? {} : { maxMessageBytes: ctx.maxMessageBytes }),
    ...(ctx.maxQueuedBytes === undefined ? {} : { maxQueuedBytes: ctx.maxQueuedBytes }),
    onOpen: (relay) => {
      relayed = relay;
      ctx.open.addWebSocket(relay);
    },
    onClose: (side, code, reason) => {
      if (relayed !== undefined) ctx.open.removeWebSocket(relayed);
      ctx.webSocketClosed(side, code, reason);
    },
  });
}
