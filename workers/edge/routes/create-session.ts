/**
 * The S path: place a new session on an origin, create its Durable Object, relay the
 * request there, and hand the client its affinity token.
 *
 * Placement is weighted power-of-two-choices over this isolate's cached snapshot of the
 * pool coordinator's view, limited by admission control. An S request may go to any
 * healthy origin, so when the chosen origin cannot be reached (or refuses new sessions)
 * the edge tries another one — S requests are the only ones ever re-placed.
 */
import { sessionStub } from "../../../durable-objects/session/stub.ts";
import { FAILURE_HEADER, type CreateRoute } from "../../../durable-objects/session/route.ts";
import { FETCH_TRANSPORT, transportFromWire, transportToWire } from "../../../relay/transport/settings.ts";
import { pickOrigin } from "../balance/pick.ts";
import { coordinatorStub } from "../../../durable-objects/pool/stub.ts";
import { hasToken, retryAfterSeconds, takeToken } from "../balance/admission.ts";
import { originAnswered, originUnreachable } from "../balance/passive-health.ts";
import { readyView } from "../balance/ready-view.ts";
import { spendNetworkBudget } from "../balance/network-budget.ts";
import type { PoolSettings } from "../../../config/pool-settings.ts";
import { sessionObjectRequest, withHeaders } from "../relay/session-request.ts";
import { newSessionKey } from "../token/claims.ts";
import { mintAffinityToken } from "../token/mint.ts";
import { mintNetwork } from "../token/network.ts";
import { withForwardedToken } from "../../../protocols/token-carriers.ts";
import { readBodyWithin } from "../../../protocols/body-read.ts";
import type { RouteContext } from "./route-context.ts";
import { isWebSocketUpgrade } from "../../../protocols/adapter.ts";
import { isolateLink } from "../legs/isolate-link.ts";
import { takeGrantedLeg } from "../legs/granted-leg.ts";
import { createWebSocketLeg } from "../legs/create-websocket-leg.ts";
import { openRelays } from "../../../relay/open-relays.ts";

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
  // The client network's S budget first: a flood is refused before it costs anything.
  const overBudget = await spendNetworkBudget(env, pool, request, input.failure);
  if (overBudget !== undefined) {
    input.observation.refused("network_budget");
    return overBudget;
  }
  // This isolate's own ceiling: past it, a new session would push it toward its memory (or,
  // locally, open-file) limit, where every session it holds is lost at once.
  const max = runtime.config.maxOpenRelays;
  if (max > 0 && openRelays() >= max) {
    input.observation.refused("edge_busy");
    return input.failure(503, "edge_busy", `this edge holds ${max} open connections, its limit; retry shortly`, {
      "retry-after": String(RETRY_AFTER_SECONDS),
    });
  }
  const view = await readyView(env, pool, input.waitUntil);
  const coordinator = coordinatorStub(env, pool.name);
  const admission = view.snapshot?.settings.admission ?? { sessionsPerSecond: 0, burst: 1 };

  const body = await replayableBody(request, input.body, pool.settings.limits.bodyReadMs);
  if ("failed" in body) {
    // A body trickled past the deadline (issue 16 F9) or cut by the client: no origin saw it.
    return body.failed === "timeout"
      ? input.failure(408, "body_timeout", `the request body did not arrive within ${pool.settings.limits.bodyReadMs} ms`)
      : input.failure(400, "bad_request", "the request body could not be read");
  }
  const net = await mintNetwork(env.TOKEN_NETWORK_BINDING, request);
  const tried = new Set<string>();
  let last: Response | undefined;
  let limited = false;
  for (let attempt = 0; attempt < MAX_PLACEMENT_ATTEMPTS; attempt++) {
    const now = Date.now();
    const candidates = view.candidates(now).map((c) => {
      if (tried.has(c.id)) return { ...c, eligible: false };
      if (c.eligible && !hasToken(`${pool.name}/${c.id}`, admission, now)) {
        limited = true;
        return { ...c, eligible: false };
      }
      return c;
    });
    const pick = pickOrigin(candidates);
    if (!pick.ok) break;
    const origin = view.origin(pick.origin);
    if (origin === undefined) break;
    tried.add(origin.id);
    takeToken(`${pool.name}/${origin.id}`, admission, now);
    // Counted as placed now, before any await: concurrent S requests in this isolate must
    // see each other (after a drain, a burst of reconnects would otherwise all read the same
    // loads and land on the one least-loaded origin, past its capacity). Undone if it fails.
    view.notePlaced(origin.id);
    let placed = false;
    try {
      const transport = transportFromWire(origin.config) ?? FETCH_TRANSPORT;

      const sk = newSessionKey();
      const { token, claims } = await mintAffinityToken(runtime.keys, {
        sk,
        origin: origin.id,
        pool: pool.name,
        ttlSeconds: runtime.config.tokenTtlSeconds,
        ...(net === undefined ? {} : { net }),
      });
      const route: CreateRoute = {
        op: "create",
        sk,
        pool: pool.name,
        adapter: adapter.name,
        origin: { id: origin.id, url: origin.config.url, ...transportToWire(transport) },
        expiresAt: claims.exp * 1000,
        token,
        announce: outbound.announce,
        ...expiry(view.snapshot?.settings, now),
        retentionMs: pool.settings.sessionLifetime.retentionSeconds * 1000,
        idleMs: pool.settings.sessionLifetime.idleSeconds * 1000,
        relay: pool.settings.relay,
        limits: pool.settings.limits,
        isolate: isolateLink().id,
        bodyHeld: body.replayable,
      };
      // The new session's token goes to the origin with the S request, as with every CR: an
      // origin that verifies tokens binds the session to its `sk` (docs/security.md F4).
      const toOrigin = withForwardedToken(outbound, token);
      const response =
        pool.settings.relay === "edge" && isWebSocketUpgrade(request)
          ? await createWebSocketLeg(env, route, adapter, toOrigin, input.waitUntil, input.client)
          : await takeGrantedLeg(await sessionStub(env, sk).fetch(sessionObjectRequest(toOrigin, request.method, body.value, route)), {
              env,
              sk,
              adapter,
              outbound: toOrigin,
              method: request.method,
              body: null,
              token,
              waitUntil: input.waitUntil,
            });

      const failure = response.headers.get(FAILURE_HEADER);
      const refused = response.status === 503;
      if ((failure !== null || refused) && body.replayable) {
        // Passive health: the origin failed a real request; stop placing sessions on it now,
        // and tell the coordinator (off the response path) so every isolate learns it.
        view.markDown(origin.id, failure ?? "refused new session (503)");
        input.observation.relayError(origin.id, failure ?? "refused_new_session", sk);
        if (failure !== null) originUnreachable({ view, coordinator: () => coordinator, waitUntil: input.waitUntil }, origin.id);
        await last?.body?.cancel();
        last = response;
        continue;
      }
      if (failure === null) originAnswered({ view, coordinator: () => coordinator, waitUntil: input.waitUntil }, origin.id, response.status);
      if (response.status >= 400) return strip(response);
      placed = true;
      input.observation.placed(origin.id, sk, adapter.name);
      return adapter.deliverToken(strip(response), token, {
        secure: outbound.url.protocol === "https:",
        ttlSeconds: runtime.config.tokenTtlSeconds,
      });
    } finally {
      if (!placed) view.forgetPlaced(origin.id);
    }
  }
  if (last !== undefined) return strip(last);
  input.observation.refused(limited ? "rate_limit" : "no_origin");
  if (limited) {
    // Admission control: the origins are healthy but taking sessions as fast as allowed.
    return input.failure(503, "no_origin_available", "new sessions are being admitted at their limit; retry shortly", {
      "retry-after": String(retryAfterSeconds()),
    });
  }
  return input.failure(503, "no_origin_available", "no origin can take a new session; retry later", {
    "retry-after": String(RETRY_AFTER_SECONDS),
  });
}

/**
 * When the session must end (the pool's maximum session lifetime), spread over
 * [max, max × (1 + jitter)] so that sessions born in one reconnect storm don't all expire —
 * and reconnect — together.
 */
function expiry(settings: PoolSettings | undefined, now: number): { endAt?: number } {
  if (settings === undefined || settings.maxSessionSeconds <= 0) return {};
  const lifetimeMs = settings.maxSessionSeconds * 1000 * (1 + settings.expiryJitter * Math.random());
  return { endAt: now + Math.round(lifetimeMs) };
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
  deadlineMs: number,
): Promise<{ value: BodyInit | null; replayable: boolean } | { failed: "timeout" | "failed" }> {
  if (read !== undefined) return { value: read, replayable: true };
  if (request.body === null) return { value: null, replayable: true };
  const length = Number(request.headers.get("content-length") ?? "NaN");
  // A streamed body is held to the deadline by the session object, as it goes to the origin.
  if (!Number.isFinite(length) || length > REPLAYABLE_BODY_BYTES) return { value: request.body, replayable: false };
  const bytes = await readBodyWithin(request.body, length, deadlineMs);
  if (bytes === "timeout") return { failed: "timeout" };
  if (typeof bytes === "string") return { failed: "failed" };
  return { value: bytes, replayable: true };
}

