/**
 * Every request that is not for the edge itself belongs to a session: the protocol
 * adapter that owns it says whether it is S (create) or CR (relay).
 */
import type { Context } from "hono";
import { poolForHost } from "../../../config/config.ts";
import { EdgeError, errorResponse } from "../../../protocols/errors.ts";
import { RequestObservation, type RequestKind } from "../../../observability/request-observation.ts";
import { adapterFor } from "../../../protocols/registry.ts";
import { outboundRequest } from "../relay/session-request.ts";
import { edgeRuntime } from "../runtime.ts";
import { createSession } from "./create-session.ts";
import { firstMessageWebSocket } from "./first-message-websocket.ts";
import { declaredBodyRefusal, refuseOversizedRequest, refuseUnwritableHead } from "./input-limits.ts";
import { refuseByPathPolicy } from "./path-policy-gate.ts";
import { relaySession } from "./relay-session.ts";

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
    const refused = refuseOversizedRequest(request, limits, adapter.failure) ?? refuseUnwritableHead(request, url, adapter.failure) ?? refuseByPathPolicy(pool, url, adapter.failure);
    if (refused !== undefined) return refused;
    const classification = await adapter.classify(request, url, limits);
    const outbound = outboundRequest(request, url);
    const later = (p: Promise<unknown>) => waitUntil(c, p);
    // A request refused while being classified (over a protocol-line limit) was a CR request.
    const kind: RequestKind = classification.kind === "first-message" ? "first_message" : classification.kind === "refused" ? "CR" : classification.kind;
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
        return observed(observation, relaySession({
          ...common,
          failure,
          token: classification.token,
          carrier: classification.carrier,
          body: classification.body,
        }));
      }
      case "refused":
        return observed(observation, classification.response);
      case "S":
        return observed(observation, createSession({ ...common, failure: classification.failure ?? adapter.failure, body: classification.body }));
    }
  };

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
