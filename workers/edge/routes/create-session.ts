/**
 * The S path: place a new session on an origin, create its Durable Object, relay the
 * request there, and hand the client its affinity token.
 *
 * Placement is weighted power-of-two-choices over this isolate's cached pool view. An S
 * request may go to any healthy origin, so when the chosen origin cannot be reached (or
 * refuses new sessions) the edge tries another one — S requests are the only ones ever
 * re-placed.
 */
import { sessionStub } from "../../../durable-objects/session/stub.ts";
import { FAILURE_HEADER, type CreateRoute } from "../../../durable-objects/session/route.ts";
import { transportToWire } from "../../../durable-objects/session/transport/settings.ts";
import { pickOrigin } from "../balance/pick.ts";
import { HEALTH_TIMEOUT_MS, poolView } from "../balance/pool-view.ts";
import { sessionObjectRequest, withHeaders } from "../relay/session-request.ts";
import { newSessionKey } from "../token/claims.ts";
import { mintAffinityToken } from "../token/mint.ts";
import type { RouteContext } from "./route-context.ts";

/** S bodies up to this size are kept so the request can be re-placed; larger ones stream once. */
export const REPLAYABLE_BODY_BYTES = 64 * 1024;
export const MAX_PLACEMENT_ATTEMPTS = 3;
/** Seconds a client is asked to wait when no origin can take a session. */
export const RETRY_AFTER_SECONDS = 5;

export interface CreateInput extends RouteContext {
  /** The request body, if the adapter read it to classify the request. */
  readonly body: ArrayBuffer | undefined;
  readonly waitUntil: (promise: Promise<unknown>) => void;
}

export async function createSession(input: CreateInput): Promise<Response> {
  const { env, runtime, pool, adapter, request, outbound } = input;
  const view = poolView(pool);
  if (!view.hasSnapshot) {
    // A cold isolate waits once (bounded) for its first view of the pool.
    await Promise.race([view.refresh(), sleep(HEALTH_TIMEOUT_MS + 500)]);
  } else if (view.isStale(Date.now())) {
    input.waitUntil(view.refresh());
  }

  const body = await replayableBody(request, input.body);
  const tried = new Set<string>();
  let last: Response | undefined;
  for (let attempt = 0; attempt < MAX_PLACEMENT_ATTEMPTS; attempt++) {
    const candidates = view.candidates().map((c) => (tried.has(c.id) ? { ...c, eligible: false } : c));
    const pick = pickOrigin(candidates);
    if (!pick.ok) break;
    const origin = view.origin(pick.origin);
    if (origin === undefined) break;
    tried.add(origin.id);

    const sk = newSessionKey();
    const { token, claims } = await mintAffinityToken(runtime.keys, {
      sk,
      origin: origin.id,
      pool: pool.name,
      ttlSeconds: runtime.config.tokenTtlSeconds,
    });
    const route: CreateRoute = {
      op: "create",
      sk,
      pool: pool.name,
      adapter: adapter.name,
      origin: { id: origin.id, url: origin.url, ...transportToWire(origin.transport) },
      expiresAt: claims.exp * 1000,
      token,
      announce: outbound.announce,
    };
    const stub = sessionStub(env, sk);
    const response = await stub.fetch(sessionObjectRequest(outbound, request.method, body.value, route));

    const failure = response.headers.get(FAILURE_HEADER);
    const refused = response.status === 503;
    if ((failure !== null || refused) && body.replayable) {
      // Passive health: the origin failed a real request; stop placing sessions on it now.
      view.markDown(origin.id, failure ?? "refused new session (503)");
      await last?.body?.cancel();
      last = response;
      continue;
    }
    if (response.status >= 400) return strip(response);
    view.notePlaced(origin.id);
    return adapter.deliverToken(strip(response), token, {
      secure: outbound.url.protocol === "https:",
      ttlSeconds: runtime.config.tokenTtlSeconds,
    });
  }
  if (last !== undefined) return strip(last);
  return input.failure(503, "no_origin_available", `no origin of pool ${pool.name} can take a new session`, {
    "retry-after": String(RETRY_AFTER_SECONDS),
  });
}

function strip(response: Response): Response {
  if (!response.headers.has(FAILURE_HEADER)) return response;
  return withHeaders(response, (h) => h.delete(FAILURE_HEADER));
}

/**
 * Reads a small S body once so it can be sent again; bodiless requests are always
 * replayable, and a body the adapter already read is reused. A large body streams once.
 */
async function replayableBody(
  request: Request,
  read: ArrayBuffer | undefined,
): Promise<{ value: BodyInit | null; replayable: boolean }> {
  if (read !== undefined) return { value: read, replayable: true };
  if (request.body === null) return { value: null, replayable: true };
  const length = Number(request.headers.get("content-length") ?? "NaN");
  if (!Number.isFinite(length) || length > REPLAYABLE_BODY_BYTES) return { value: request.body, replayable: false };
  return { value: await request.arrayBuffer(), replayable: true };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
