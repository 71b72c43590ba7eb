/**
 * Every request that is not for the edge itself goes to the protocol adapter that owns
 * it, which says what it is: S (create a session), CR (relay to its session), or no
 * session at all (relayed statelessly or refused, as the pool says). The router asks the
 * adapter and dispatches; it never looks at paths itself.
 */
import type { Context } from "hono";
import { poolForHost } from "../../../config/config.ts";
import { EdgeError, errorResponse } from "../../../protocols/errors.ts";
import { RequestObservation, type RequestKind } from "../../../observability/request-observation.ts";
import { adapterFor } from "../../../protocols/registry.ts";
import type { Classification } from "../../../protocols/adapter.ts";
import { outboundRequest } from "../relay/session-request.ts";
import { edgeRuntime } from "../runtime.ts";
import { cookieOriginRefusal } from "./cookie-origin.ts";
import { createSession } from "./create-session.ts";
import { firstMessageWebSocket } from "./first-message-websocket.ts";
import { declaredBodyRefusal, refuseOversizedRequest, refuseUnwritableHead, requestHead } from "./input-limits.ts";
import { refuseByPathPolicy } from "./path-policy-gate.ts";
import { relaySession } from "./relay-session.ts";
import { statelessRelay } from "./stateless-relay.ts";

export type EdgeEnv = { Bindings: Env };

export const sessionRoutes = () =>
  async function sessionRoutes(c: Context<EdgeEnv>): Promise<Response> {
    const request = c.req.raw;
    const url = new URL(request.url);
    const runtime = edgeRuntime(c.env);
    const pool = poolForHost(runtime.config, url.host);
    if (pool === undefined) return errorResponse(404, "unknown_pool", `no pool serves host ${url.hostname}`);
    const adapter = adapterFor(url);
    const limits = pool.settings.limits;
    // Input limits, bytes the origin could not be sent as they are (F1), the pool's path policy (F2).
    const head = requestHead(request);
    const refused =
      refuseOversizedRequest(request, head, limits, adapter.failure) ??
      refuseUnwritableHead(request, url, head, adapter.failure) ??
      refuseByPathPolicy(pool, url, adapter.failure);
    if (refused !== undefined) return refused;
    const classification = await adapter.classify(request, url, limits, pool.settings.sessionStart);
    const outbound = outboundRequest(request, url, head);
    const later = (p: Promise<unknown>) => waitUntil(c, p);
    const kind = requestKind(classification.kind);
    const observation = new RequestObservation(kind, pool.name, c.env, later);
    const common = { env: c.env, runtime, pool, adapter, request, outbound, waitUntil: later, observation };
    switch (classification.kind) {
      case "first-message":
        return observed(observation, firstMessageWebSocket({ ...common, failure: adapter.failure }));
      case "CR": {
        const failure = classification.failure ?? adapter.failure;
        // Over the limit by its Content-Length: refused here. A chunked body is counted by
        // the session object as it streams to the origin (relay/body-limit.ts).
        const declared = declaredBodyRefusal(request, limits, failure);
        if (declared !== undefined) return observed(observation, declared);
        // A token from the ambient cookie must come from a web origin the pool allows (F13).
        const crossSite = cookieOriginRefusal(request, url, pool, classification.carrier, failure);
        if (crossSite !== undefined) return observed(observation, crossSite);
        return observed(observation, relaySession({
          ...common,
          failure,
          token: classification.token,
          carrier: classification.carrier,
          body: classification.body,
          ...(classification.longLived === undefined ? {} : { longLived: classification.longLived }),
        }));
      }
      case "refused":
        return observed(observation, classification.response);
      case "S":
        return observed(observation, createSession({ ...common, failure: classification.failure ?? adapter.failure, body: classification.body }));
      case "no-session":
        return observed(observation, statelessRelay({ ...common, failure: adapter.failure }));
    }
  };

/** The metrics' name for what the request turned out to be. */
function requestKind(kind: Classification["kind"]): RequestKind {
  switch (kind) {
    case "first-message":
      return "first_message";
    // A request refused while being classified (over a protocol-line limit) was a CR request.
    case "refused":
      return "CR";
    case "no-session":
      return "stateless";
    default:
      return kind;
  }
}

/** Counts the request with the status its client gets, whether the route answered or threw. */
async function observed(observation: RequestObservation, response: Promise<Response> | Response): Promise<Response> {
  try {
    const answer = await response;
    observation.finish(answer.status);
    return answer;
  } catch (err) {
    observation.finish(err instanceof EdgeError ? err.status : 500);
    throw err;
  }
}

function waitUntil(c: Context<EdgeEnv>, promise: Promise<unknown>): void {
  try {
    c.executionCtx.waitUntil(promise);
  } catch {
    // No execution context (app.request() in tests): let it run on its own.
    void promise;
  }
}
