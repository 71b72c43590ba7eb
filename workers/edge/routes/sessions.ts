/**
 * Every request that is not for the edge itself belongs to a session: the protocol
 * adapter that owns it says whether it is S (create) or CR (relay).
 */
import type { Context } from "hono";
import { poolForHost } from "../config.ts";
import { EdgeError, errorResponse } from "../errors.ts";
import { RequestObservation, type RequestKind } from "../observability/request-observation.ts";
import { adapterFor } from "../protocols/registry.ts";
import { outboundRequest } from "../relay/session-request.ts";
import { edgeRuntime } from "../runtime.ts";
import { createSession } from "./create-session.ts";
import { firstMessageWebSocket } from "./first-message-websocket.ts";
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
    const classification = await adapter.classify(request, url);
    const outbound = outboundRequest(request, url);
    const later = (p: Promise<unknown>) => waitUntil(c, p);
    const kind: RequestKind = classification.kind === "first-message" ? "first_message" : classification.kind;
    const observation = new RequestObservation(kind, pool.name, c.env, later);
    const common = { env: c.env, runtime, pool, adapter, request, outbound, waitUntil: later, observation };
    switch (classification.kind) {
      case "first-message":
        return observed(observation, firstMessageWebSocket({ ...common, failure: adapter.failure }));
      case "CR":
        return observed(observation, relaySession({
          ...common,
          failure: classification.failure ?? adapter.failure,
          token: classification.token,
          carrier: classification.carrier,
          body: classification.body,
        }));
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
