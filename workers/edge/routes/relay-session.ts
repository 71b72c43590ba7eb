/**
 * The CR path: verify the affinity token and hand the request to the session's Durable
 * Object, which relays it to the session's origin. A request whose token fails
 * verification never reaches any Durable Object or origin.
 */
import type { LongLived } from "../../../protocols/adapter.ts";
import { sessionStub } from "../../../durable-objects/session/stub.ts";
import { FAILURE_HEADER } from "../../../durable-objects/session/route.ts";
import { coordinatorStub } from "../../../durable-objects/pool/stub.ts";
import { poolView } from "../balance/pool-view.ts";
import { originAnswered, originUnreachable } from "../balance/passive-health.ts";
import { sessionObjectRequest, withHeaders } from "../relay/session-request.ts";
import { clearedAffinityCookie, withForwardedToken } from "../../../protocols/token-carriers.ts";
import { admitToken } from "../token/admit.ts";
import { TOKEN_FAILURES } from "../token/failures.ts";
import type { RouteContext } from "./route-context.ts";
import { isolateLink } from "../legs/isolate-link.ts";
import { takeGrantedLeg } from "../legs/granted-leg.ts";

export interface RelayInput extends RouteContext {
  readonly token: string;
  /** Where the token came from (`cookie`, `header`, ...). */
  readonly carrier: string;
  /** The request body, if the adapter read it to find the token. */
  readonly body: ArrayBuffer | undefined;
  /** The adapter expects the origin to hold the answer open (Classification's `longLived`). */
  readonly longLived?: LongLived;
  readonly waitUntil: (promise: Promise<unknown>) => void;
}

export async function relaySession(input: RelayInput): Promise<Response> {
  const { env, runtime, pool, request, outbound } = input;
  const verified = await admitToken(runtime.keys, input.token, pool.name, request, env.TOKEN_NETWORK_BINDING);
  if (!verified.ok) {
    const f = TOKEN_FAILURES[verified.reason];
    input.observation.tokenRefused(verified.reason, input.carrier);
    return forgetCookie(input, input.failure(f.status, f.code, f.message));
  }
  const { sk, o } = verified.claims;
  input.observation.routed(o, sk);
  const stub = sessionStub(env, sk);
  const toObject = withForwardedToken(outbound, input.token);
  // A held-open request this isolate may send to the origin itself needs its body here
  // too: one the adapter read, or none at all.
  const leg = input.longLived !== undefined && (input.body !== undefined || request.body === null) ? input.longLived : undefined;
  const answer = await stub.fetch(
    sessionObjectRequest(toObject, request.method, input.body ?? request.body, {
      op: "relay",
      sk,
      pool: pool.name,
      origin: o,
      token: input.token,
      // In relay mode `edge` the object may hand a long-lived leg back for this isolate to pump.
      isolate: isolateLink().id,
      ...(leg === undefined ? {} : { leg }),
    }),
  );
  const response = await takeGrantedLeg(answer, {
    env,
    sk,
    adapter: input.adapter,
    outbound: toObject,
    method: request.method,
    body: input.body ?? null,
    token: input.token,
    waitUntil: input.waitUntil,
    ...(input.client === undefined ? {} : { client: input.client }),
  });
  const failure = response.headers.get(FAILURE_HEADER);
  // Passive health: what the session's origin did with a real request.
  const passive = { view: poolView(pool), coordinator: () => coordinatorStub(env, pool.name), waitUntil: input.waitUntil };
  if (failure === null) {
    originAnswered(passive, o, response.status);
    return response;
  }
  if (failure === "origin_unreachable") {
    input.observation.relayError(o, failure);
    originUnreachable(passive, o);
  }
  // The session object answered instead of the origin; say it in this request's words.
  await response.body?.cancel();
  const code = failure === "origin_unreachable" ? "origin_unreachable" : "session_not_found";
  const status = code === "origin_unreachable" ? 502 : 404;
  const message =
    code === "origin_unreachable"
      ? "the session's origin cannot be reached; start a new session"
      : "this session no longer exists; start a new one";
  return forgetCookie(input, input.failure(status, code, message));
}

/**
 * The session this token names is over (or the token is no good): a browser that keeps
 * sending the cookie would have every later request treated as CR of that dead session —
 * including its next S request. Removing the cookie makes its next request a fresh S.
 */
function forgetCookie(input: RelayInput, response: Response): Response {
  if (input.carrier !== "cookie") return response;
  const secure = input.outbound.url.protocol === "https:";
  return withHeaders(response, (h) => h.append("set-cookie", clearedAffinityCookie(secure)));
}
