/**
 * The session object's answer to a CR request may admit a leg for this Worker to pump
 * (relay mode `edge`, leg-grant.ts): a WebSocket to open to the origin, a held-open request
 * (stream, long-poll) to send to the origin itself, or a stream the object found and hands
 * over to pass on. Anything else is the object's (or origin's) own answer and goes back
 * unchanged.
 */
import type { ProtocolAdapter } from "../../../protocols/adapter.ts";
import { ROUTE_HEADER } from "../../../durable-objects/session/route.ts";
import { LEG_HEADER, decodeGrant, type LegGrant } from "../../../durable-objects/session/leg-grant.ts";
import { sessionStub } from "../../../durable-objects/session/stub.ts";
import { errorMessage, log } from "../../../observability/log.ts";
import { bodyFor, type OutboundRequest } from "../relay/session-request.ts";
import type { ClientSlot } from "../../../relay/websocket-relay.ts";
import { openStreamLeg } from "./fetched-stream-leg.ts";
import { unreachable } from "./leg-answers.ts";
import { pumpStreamLeg } from "./stream-leg.ts";
import { openWebSocketLeg } from "./websocket-leg.ts";

export interface GrantContext {
  readonly env: Env;
  readonly sk: string;
  readonly adapter: ProtocolAdapter;
  /** The request as sent on toward the origin (its route header is dropped here). */
  readonly outbound: OutboundRequest;
  readonly method: string;
  /** The request's body, for a stream leg this Worker sends to the origin itself (null: none). */
  readonly body: ArrayBuffer | null;
  readonly token: string;
  readonly waitUntil: (promise: Promise<unknown>) => void;
  /** The first-message path's accepted client socket, pumped into directly. */
  readonly client?: ClientSlot;
}

export async function takeGrantedLeg(response: Response, ctx: GrantContext): Promise<Response> {
  const grant = decodeGrant(response.headers.get(LEG_HEADER));
  if (grant === undefined) return response;
  // A stream the object fetched and found streaming: its body, handed over, is pumped here.
  if (grant.kind === "stream" && grant.origin === undefined) return pumpStreamLeg(ctx.env, ctx.sk, grant.leg, await rewritten(response, grant, ctx), ctx.waitUntil);
  await response.body?.cancel();
  if (grant.origin === undefined) return unreachable("the session object granted a WebSocket leg without its origin", ctx.sk, grant.leg);
  if (grant.kind !== "websocket") {
    // A request the adapter expected to be held open: this Worker fetches it itself.
    return openStreamLeg({
      env: ctx.env,
      sk: ctx.sk,
      leg: grant.leg,
      kind: grant.kind,
      adapter: ctx.adapter,
      request: originRequest(ctx.outbound, ctx.method, ctx.body),
      origin: grant.origin,
      token: ctx.token,
      waitUntil: ctx.waitUntil,
    });
  }
  const { outcome } = await openWebSocketLeg({
    env: ctx.env,
    sk: ctx.sk,
    leg: grant.leg,
    adapter: ctx.adapter,
    request: originRequest(ctx.outbound, ctx.method),
    origin: grant.origin,
    token: ctx.token,
    announce: false,
    waitUntil: ctx.waitUntil,
    ...(ctx.client === undefined ? {} : { client: ctx.client }),
  });
  return outcome.ok ? outcome.response : unreachable(outcome.reason, ctx.sk, grant.leg);
}

/**
 * The protocol adapter's rewrite of a handed-off stream, done here so that no byte of the
 * stream passes through the session object. On S, the origin's session id found in the
 * answer reaches the object before the client can see the answer (and send a CR request
 * that needs it).
 */
async function rewritten(response: Response, grant: LegGrant, ctx: GrantContext): Promise<Response> {
  const { adapter } = ctx;
  if (grant.rewrite === "relayed") {
    return adapter.relayed === undefined ? response : adapter.relayed(response, { token: ctx.token, originSessionId: grant.originSessionId ?? null });
  }
  if (grant.rewrite !== "created") return response;
  const created = await adapter.created(response, ctx.token);
  if (created.originSessionId !== undefined) {
    await sessionStub(ctx.env, ctx.sk)
      .originSessionIdLearnt(created.originSessionId)
      .catch((err: unknown) => log("origin_session_id_unsaved", { sk: ctx.sk, message: errorMessage(err) }, "error"));
  }
  return created.response;
}

/** The client's request as the origin gets it from the edge itself: no internal route. */
export function originRequest(outbound: OutboundRequest, method: string, body: ArrayBuffer | null = null): Request {
  const headers = new Headers(outbound.headers);
  headers.delete(ROUTE_HEADER);
  return new Request(outbound.url, { method, headers, body: bodyFor(method, body, headers) });
}
