/**
 * Relay mode `edge`, WebSocket S request: this Worker opens the origin's WebSocket itself
 * and, only once the origin accepted, asks the new session object to come into being with
 * this leg — a refused or unreachable S request stores nothing anywhere, and the caller may
 * place it on another origin as it does for the object's own answers.
 */
import type { ProtocolAdapter } from "../../../protocols/adapter.ts";
import type { CreateRoute } from "../../../durable-objects/session/route.ts";
import { sessionStub } from "../../../durable-objects/session/stub.ts";
import { DEFAULT_LIMITS } from "../../../config/limits.ts";
import { FETCH_TRANSPORT, transportFromWire } from "../../../relay/transport/settings.ts";
import type { OutboundRequest } from "../relay/session-request.ts";
import type { ClientSlot } from "../../../relay/websocket-relay.ts";
import { originRequest } from "./granted-leg.ts";
import { unreachable } from "./leg-answers.ts";
import { isolateLink } from "./isolate-link.ts";
import { openWebSocketLeg } from "./websocket-leg.ts";

/** Close code when the session could not be recorded after all: the client should retry. */
const TRY_AGAIN_LATER = 1013;

export async function createWebSocketLeg(
  env: Env,
  route: CreateRoute,
  adapter: ProtocolAdapter,
  outbound: OutboundRequest,
  waitUntil: (promise: Promise<unknown>) => void,
  client?: ClientSlot,
): Promise<Response> {
  const leg = crypto.randomUUID();
  const isolate = isolateLink().id;
  const limits = route.limits ?? DEFAULT_LIMITS;
  const { outcome, relay } = await openWebSocketLeg(
    {
      env,
      sk: route.sk,
      leg,
      adapter,
      request: originRequest(outbound, "GET"),
      origin: {
        url: route.origin.url,
        transport: transportFromWire(route.origin) ?? FETCH_TRANSPORT,
        originSessionId: null,
        maxMessageBytes: limits.webSocketMessageBytes,
        maxQueuedBytes: limits.webSocketQueueBytes,
      },
      token: route.token,
      announce: route.announce,
      waitUntil,
      ...(client === undefined ? {} : { client }),
    },
    false,
  );
  if (!outcome.ok) return unreachable(outcome.reason, route.sk, leg);
  if (relay === undefined) return outcome.response;
  const created = await sessionStub(env, route.sk)
    .createWithLeg(route, leg, isolate)
    .catch(() => false);
  if (!created) {
    relay.end(undefined, TRY_AGAIN_LATER, "the session could not be recorded; open a new one");
  }
  return outcome.response;
}
