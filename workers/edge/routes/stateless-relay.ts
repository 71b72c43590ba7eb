/**
 * Tokenless requests that open no session (config/session-start.ts): relayed statelessly
 * to a healthy origin — picked as an S request would be, from the same pool view — or
 * refused, as the pool chooses (`unmatched`). Nothing is created for them: no session
 * object, no token, no registry entry, no storage; the origin's answer streams back as it
 * comes (relayHttp, the session object's own relay, run here).
 *
 * A WebSocket that opens no session is refused even when the pool passes the rest: a
 * WebSocket is a long-lived leg, and every long-lived leg through the edge belongs to a
 * session object that can account for it and end it.
 */
import { relayHttp } from "../../../relay/http-relay.ts";
import { FETCH_TRANSPORT, transportFromWire } from "../../../relay/transport/settings.ts";
import { coordinatorStub } from "../../../durable-objects/pool/stub.ts";
import { isWebSocketUpgrade } from "../../../protocols/adapter.ts";
import { pickOrigin } from "../balance/pick.ts";
import { readyView } from "../balance/ready-view.ts";
import { bodyFor } from "../relay/session-request.ts";
import type { RouteContext } from "./route-context.ts";

/** Bodiless requests may be tried on another origin when one cannot be reached. */
const MAX_ATTEMPTS = 2;
/** Seconds a client is asked to wait when no origin can answer. */
const RETRY_AFTER_SECONDS = 5;

export interface StatelessInput extends RouteContext {
  readonly waitUntil: (promise: Promise<unknown>) => void;
}

export async function statelessRelay(input: StatelessInput): Promise<Response> {
  const { env, pool, request, outbound } = input;
  if (pool.settings.sessionStart.unmatched === "reject" || isWebSocketUpgrade(request)) {
    return input.failure(404, "not_a_session_request", `${request.method} ${outbound.url.pathname} carries no affinity token and opens no session`);
  }
  const view = await readyView(env, pool, input.waitUntil);
  const tried = new Set<string>();
  const attempts = request.body === null ? MAX_ATTEMPTS : 1;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const pick = pickOrigin(view.candidates(Date.now()).map((c) => (tried.has(c.id) ? { ...c, eligible: false } : c)));
    const origin = pick.ok ? view.origin(pick.origin) : undefined;
    if (origin === undefined) break;
    tried.add(origin.id);
    const outcome = await relayHttp(
      new Request(outbound.url, { method: request.method, headers: outbound.headers, body: bodyFor(request.method, request.body, outbound.headers) }),
      {
        url: origin.config.url,
        transport: transportFromWire(origin.config) ?? FETCH_TRANSPORT,
        // PROXY v2's unique id names a session; this request has none.
        sessionKey: "",
        proxyAuthKeys: env.PROXY_AUTH_KEYS,
      },
    );
    if (outcome.ok) {
      input.observation.routed(origin.id, "");
      // What an origin may not say in the edge's words is already gone (relayHttp, F12).
      return outcome.response;
    }
    // Passive health, as on the S path: stop sending this isolate's requests there.
    view.markDown(origin.id, outcome.reason);
    input.observation.relayError(origin.id, "origin_unreachable", "");
    input.waitUntil(coordinatorStub(env, pool.name).reportFailure(origin.id, "origin_unreachable").catch(() => undefined));
  }
  return input.failure(503, "no_origin_available", `no origin of pool ${pool.name} can answer`, { "retry-after": String(RETRY_AFTER_SECONDS) });
}
