/**
 * The origin transports behind one interface: `fetch` (the runtime's HTTP client) and
 * `tcp` (a raw connection that starts with a PROXY header). Relays and health checks ask
 * for the session's or origin's transport here and use it; this is the only place that
 * looks at which kind it is.
 */
import type { RelayOutcome } from "../http-relay.ts";
import type { WebSocketRelayHooks } from "../websocket-relay.ts";
import { relayHttpOverFetch } from "../http-relay.ts";
import { relayWebSocketOverFetch } from "../websocket-relay.ts";
import type { OriginLink } from "./origin-link.ts";
import type { TransportSettings } from "./settings.ts";
import { tcpHealthFetch, type HealthFetch } from "./tcp-health-fetch.ts";
import { relayHttpOverTcp } from "./tcp-http-relay.ts";
import { relayWebSocketOverTcp } from "./tcp-websocket-relay.ts";

export interface OriginTransport {
  /** One HTTP exchange, bodies streamed both ways; `signal` abandons it before the answer. */
  exchange(request: Request, link: OriginLink, signal?: AbortSignal): Promise<RelayOutcome>;
  /** A WebSocket to the origin, pumped with a new client-side socket (the 101's). */
  webSocket(request: Request, link: OriginLink, hooks: WebSocketRelayHooks): Promise<RelayOutcome>;
  /** What GETs the origin's health URL over this transport (`plain` for fetch). */
  healthFetch(plain: HealthFetch): HealthFetch;
}

const FETCH: OriginTransport = {
  exchange: (request, link, signal) => relayHttpOverFetch(request, link, signal),
  webSocket: (request, link, hooks) => relayWebSocketOverFetch(request, link, hooks),
  healthFetch: (plain) => plain,
};

export function originTransport(settings: TransportSettings): OriginTransport {
  if (settings.kind === "fetch") return FETCH;
  const proxy = settings.proxy;
  return {
    exchange: (request, link, signal) => relayHttpOverTcp(request, link, proxy, signal),
    webSocket: (request, link, hooks) => relayWebSocketOverTcp(request, link, proxy, hooks),
    healthFetch: () => tcpHealthFetch(proxy),
  };
}
