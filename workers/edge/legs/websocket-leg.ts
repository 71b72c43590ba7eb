/**
 * Relay mode `edge`: a session's WebSocket pumped by this Worker, straight to the origin
 * the session object named — the same relay code the object runs in mode `object`
 * (relay/session-websocket.ts), over either transport. The leg is registered with this
 * isolate's hub link so the session object can end it, and the object hears when it
 * closes.
 */
import type { ProtocolAdapter } from "../../../protocols/adapter.ts";
import type { EndSignal } from "../../../protocols/adapter.ts";
import type { RelayOutcome } from "../../../relay/http-relay.ts";
import { relaySessionWebSocket } from "../../../relay/session-websocket.ts";
import type { TransportSettings } from "../../../relay/transport/settings.ts";
import type { ClientSlot, RelayedWebSocket } from "../../../relay/websocket-relay.ts";
import { sessionStub } from "../../../durable-objects/session/stub.ts";
import { isolateLink } from "./isolate-link.ts";

export interface WebSocketLegInput {
  readonly env: Env;
  readonly sk: string;
  readonly leg: string;
  readonly adapter: ProtocolAdapter;
  /** The upgrade request as the origin should get it (route header gone, carriers stripped). */
  readonly request: Request;
  readonly origin: {
    readonly url: string;
    readonly transport: TransportSettings;
    readonly originSessionId: string | null;
    readonly maxMessageBytes: number;
    readonly maxQueuedBytes: number;
  };
  readonly token: string;
  readonly announce: boolean;
  readonly waitUntil: (promise: Promise<unknown>) => void;
  /** The first-message path's accepted client socket, pumped into directly. */
  readonly client?: ClientSlot;
}

/**
 * Opens the origin's WebSocket and relays it. `ok: false` (origin unreachable) and any
 * answer but 101 (the origin refused) close the leg at once; the session object is told
 * (except for an S leg, which the object never saw: `reportRefusal` false).
 */
export async function openWebSocketLeg(
  input: WebSocketLegInput,
  reportRefusal = true,
): Promise<{ readonly outcome: RelayOutcome; readonly relay?: RelayedWebSocket }> {
  const { env, sk, leg, adapter } = input;
  const stub = (): ReturnType<typeof sessionStub> => sessionStub(env, sk);
  let originSessionId = input.origin.originSessionId;
  let relayed: RelayedWebSocket | undefined;
  let closedHere: (() => void) | undefined;
  let closed = false;
  const ids = { token: input.token, originSessionId };
  const request = adapter.toOrigin === undefined ? input.request : await adapter.toOrigin(input.request, ids);
  const outcome = await relaySessionWebSocket(
    request,
    { url: input.origin.url, transport: input.origin.transport, sessionKey: sk, proxyAuthKeys: env.PROXY_AUTH_KEYS },
    adapter,
    {
      token: input.token,
      announce: input.announce,
      maxMessageBytes: input.origin.maxMessageBytes,
      maxQueuedBytes: input.origin.maxQueuedBytes,
      ...(input.client === undefined ? {} : { client: input.client }),
      originSessionId: () => originSessionId,
      learnOriginSessionId: (id) => {
        if (id === originSessionId) return;
        originSessionId = id;
        input.waitUntil(stub().originSessionIdLearnt(id).catch(() => undefined));
      },
      onOpen: (relay) => {
        relayed = relay;
      },
      onClose: (side, code, reason) => {
        closed = true;
        closedHere?.();
        input.waitUntil(stub().legClosed(leg, "websocket", side, code, reason).catch(() => undefined));
      },
    },
  );
  const opened = outcome.ok && relayed !== undefined;
  if (opened && relayed !== undefined) {
    if (closed) return { outcome };
    const relay = relayed;
    const end = (signal: EndSignal): void => relay.end(signal.webSocketMessage, signal.closeCode, signal.closeReason);
    closedHere = isolateLink().register(env, sk, leg, end);
    return { outcome, relay };
  } else if (reportRefusal) {
    const reason = outcome.ok ? `origin answered ${outcome.response.status}` : outcome.reason;
    input.waitUntil(stub().legClosed(leg, "websocket", "origin", 1011, reason).catch(() => undefined));
  }
  return { outcome };
}
