/**
 * One Durable Object per session, named by the affinity token's `sk`. It holds the
 * authoritative session-to-origin mapping and relays the session's CR requests and
 * WebSockets to that origin — and only to that origin: when the origin cannot be reached
 * the client gets an error in its protocol's words, never a different origin.
 */
import { DurableObject } from "cloudflare:workers";
import { adapterNamed } from "../../protocols/registry.ts";
import { genericAdapter } from "../../protocols/generic.ts";
import { isEndReason, type EndReason, type ProtocolAdapter } from "../../protocols/adapter.ts";
import { log } from "../../observability/log.ts";
import { webSocketEnded } from "../../observability/session-events.ts";
import type { RelayOutcome } from "../../relay/http-relay.ts";
import { forwardToOrigin } from "./origin-forward.ts";
import { OpenConnections } from "./open-connections.ts";
import { FAILURE_HEADER, ROUTE_HEADER, decodeRoute, type CreateRoute, type RelayRoute } from "./route.ts";
import { endMessage } from "../../relay/end-message.ts";
import { register, registerOriginSessionId, unregister } from "./registration.ts";
import { RECORD_GRACE_MS, SessionStore, type SessionEvent, type SessionRecord } from "./store.ts";
import { IdleDeadline } from "./idle-deadline.ts";
import { FETCH_TRANSPORT, transportFromWire } from "../../relay/transport/settings.ts";
import { poolLimits } from "../../workers/edge/pool-limits.ts";
import { bodyTimedOut, bodyTooLarge, boundRelayBody, eitherSignal } from "../../relay/body-limit.ts";

export { RECORD_GRACE_MS } from "./store.ts";

/** A session forgotten while a WebSocket of it is still open is looked at again after this. */
const FORGET_RETRY_MS = 60_000;

export interface SessionView {
  readonly record: SessionRecord | undefined;
  readonly events: SessionEvent[];
  readonly openWebSockets: number;
  readonly openStreams: number;
}

export class SessionObject extends DurableObject<Env> {
  #store: SessionStore;
  #record: SessionRecord | undefined;
  readonly #open = new OpenConnections();
  #pendingOriginSessionId: string | undefined;
  readonly #idle = new IdleDeadline(() => this.#store);

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // SQLite calls are synchronous: the record is loaded before any entry point runs.
    this.#store = new SessionStore(ctx.storage.sql);
    this.#record = this.#store.load();
  }

  override async fetch(request: Request): Promise<Response> {
    const route = decodeRoute(request.headers.get(ROUTE_HEADER));
    if (route === undefined) {
      return genericAdapter.failure(400, "bad_request", "session objects are reached through the edge only");
    }
    return route.op === "create" ? this.#create(request, route) : this.#relay(request, route);
  }

  /** RPC for the admin API: the session's record and event log. */
  describe(): SessionView {
    return {
      record: this.#record,
      events: this.#store.events(),
      openWebSockets: this.#open.webSockets,
      openStreams: this.#open.streams,
    };
  }

  /**
   * RPC: ends the session on purpose. Every open connection of the session is told, in its
   * protocol's words, to reconnect (which makes the client open a new session through the
   * edge); requests still waiting for the origin are answered session_not_found, as is
   * every later request. Returns false if there was no live session to end.
   */
  async end(reason: EndReason, detail?: string): Promise<boolean> {
    if (!isEndReason(reason)) throw new TypeError(`not a reason to end a session: ${String(reason)}`);
    const record = this.#record;
    if (record === undefined || record.state === "ended") return false;
    const adapter = adapterNamed(record.adapter) ?? genericAdapter;
    // Marked first, so that nothing that runs after this point sees a live session.
    this.#record = { ...record, state: "ended", endedReason: reason };
    this.#store.save(this.#record);
    this.#store.record("ended", { reason, detail: detail ?? null });
    log("session_ended", { sk: record.sk, pool: record.pool, origin: record.originId, reason, detail });
    this.#open.endAll(adapter.endSignal(reason, endMessage(reason, detail)));
    this.#store.clearDeadline("end");
    this.#idle.clear();
    // Kept for the pool's retention from now, then all of it is deleted (alarm → #forget);
    // sooner if it was due sooner (a session ended long after its token expired).
    const forgetAt = this.#store.deadline("forget") ?? Number.POSITIVE_INFINITY;
    this.#store.setDeadline("forget", Math.min(forgetAt, Date.now() + record.retentionMs));
    await this.#scheduleAlarm();
    await unregister(this.env, record);
    return true;
  }

  /**
   * The one alarm serves every deadline (store.ts DeadlineKind). Safe to run twice or
   * late: each deadline is acted on only once it is due, and acting on it again is a no-op.
   */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const endAt = this.#store.deadline("end");
    if (endAt !== undefined && endAt <= now) {
      await this.end("expired", "maximum session duration reached");
      this.#store.clearDeadline("end");
    }
    const record = this.#record;
    if (record !== undefined && record.state === "active" && this.#idle.check(record, now, this.#open.hasOpenConnections()) === "end") {
      await this.end("idle", `no connection and no request for ${Math.round(record.idleMs / 1000)} s`);
    }
    const forgetAt = this.#store.deadline("forget");
    if (forgetAt !== undefined && forgetAt <= now) {
      // A WebSocket still open keeps its record; look again later.
      if (this.#open.webSockets > 0) this.#store.setDeadline("forget", now + FORGET_RETRY_MS);
      else return this.#forget();
    }
    await this.#scheduleAlarm();
  }

  async #forget(): Promise<void> {
    const record = this.#record;
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    // deleteAll() drops the schema too; start again from an empty, migrated store.
    this.#store = new SessionStore(this.ctx.storage.sql);
    this.#record = undefined;
    // An ended session has left the registry already; removing it again costs one call.
    if (record !== undefined) await unregister(this.env, record);
  }

  /**
   * An S request that created no session leaves nothing: the store writes nothing before a
   * session exists, and whatever was written anyway (by a newer caller) is deleted here.
   */
  async #discard(): Promise<void> {
    if (!this.#store.written) return;
    await this.ctx.storage.deleteAll();
    this.#store = new SessionStore(this.ctx.storage.sql);
  }

  async #scheduleAlarm(): Promise<void> {
    const next = this.#store.nextDeadline();
    if (next === undefined) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(next);
  }

  async #create(request: Request, route: CreateRoute): Promise<Response> {
    const adapter = adapterNamed(route.adapter) ?? genericAdapter;
    if (this.#record !== undefined) {
      // Session keys are 128 random bits: a second create means a replayed internal request.
      return adapter.failure(409, "bad_request", "session already exists");
    }
    const record: SessionRecord = {
      sk: route.sk,
      pool: route.pool,
      adapter: adapter.name,
      originId: route.origin.id,
      originUrl: route.origin.url,
      originTransport: transportFromWire(route.origin) ?? FETCH_TRANSPORT,
      originSessionId: null,
      state: "active",
      createdAt: Date.now(),
      expiresAt: route.expiresAt,
      endedReason: null,
      retentionMs: route.retentionMs ?? RECORD_GRACE_MS,
      idleMs: route.idleMs ?? 0,
    };
    // S bodies have no size limit, but a deadline (issue 16 F9): a trickled one is cut.
    const bounded = boundRelayBody(request, Number.POSITIVE_INFINITY, poolLimits(this.env, route.pool).bodyReadMs);
    const outcome = await this.#forward(bounded.request, record, adapter, route.token, route.announce, bounded.signal);
    if (bounded.timedOut()) return bodyTimedOut(adapter, outcome, bounded);
    if (!outcome.ok) {
      // The session never existed; the edge may place it elsewhere.
      await this.#discard();
      return this.#unreachable(adapter, record, outcome.reason);
    }
    // An origin that refused the session (503 full/blocked, 4xx) created nothing: keep no
    // record, so a refused S request costs no storage; its answer goes back as it is.
    if (outcome.response.status >= 400) {
      await this.#discard();
      return outcome.response;
    }
    // Over HTTP the origin names its session in this answer; over a WebSocket, in a
    // message still to come (then #learnOriginSessionId records it).
    const created =
      outcome.response.status === 101
        ? { response: outcome.response, originSessionId: undefined }
        : await adapter.created(outcome.response, route.token);
    const originSessionId = created.originSessionId ?? this.#pendingOriginSessionId ?? null;
    this.#record = { ...record, originSessionId };
    this.#store.save(this.#record);
    this.#store.record("created", { origin: record.originId, status: outcome.response.status, originSessionId });
    this.#store.setDeadline("forget", record.expiresAt + record.retentionMs);
    if (route.endAt !== undefined) this.#store.setDeadline("end", route.endAt);
    this.#idle.start(record, Date.now());
    await this.#scheduleAlarm();
    register(this.ctx, this.env, this.#record);
    return this.#opened(created.response);
  }

  async #relay(request: Request, route: RelayRoute): Promise<Response> {
    const record = this.#record;
    if (record === undefined || record.state === "ended") return sessionGone(record);
    const adapter = adapterNamed(record.adapter) ?? genericAdapter;
    if (record.originId !== route.origin || record.pool !== route.pool) {
      return adapter.failure(401, "token_invalid", "token does not match its session");
    }
    this.#idle.touch(record, Date.now());
    const ids = { token: route.token, originSessionId: record.originSessionId };
    const toOrigin = adapter.toOrigin === undefined ? request : await adapter.toOrigin(request, ids);
    const limits = poolLimits(this.env, record.pool);
    const bounded = boundRelayBody(toOrigin, limits.bodyBytes, limits.bodyReadMs);
    const pending = this.#open.pending();
    const signal = eitherSignal(pending.signal, bounded.signal);
    const outcome = await this.#forward(bounded.request, record, adapter, route.token, false, signal).finally(pending.done);
    if (bounded.exceeded()) return bodyTooLarge(adapter, outcome, bounded);
    if (bounded.timedOut()) return bodyTimedOut(adapter, outcome, bounded);
    if (this.#record?.state !== "active") {
      // The session ended while the origin was answering. A WebSocket that opened meanwhile
      // has been given the end signal already (OpenConnections); anything else is dropped.
      if (outcome.ok && outcome.response.status === 101) return outcome.response;
      if (outcome.ok) await outcome.response.body?.cancel();
      return sessionGone(record);
    }
    if (!outcome.ok) return this.#unreachable(adapter, record, outcome.reason);
    if (outcome.response.status === 101 || adapter.relayed === undefined) return this.#opened(outcome.response);
    return this.#opened(await adapter.relayed(outcome.response, ids));
  }

  #forward(
    request: Request,
    record: SessionRecord,
    adapter: ProtocolAdapter,
    token: string,
    announce: boolean,
    signal?: AbortSignal,
  ): Promise<RelayOutcome> {
    return forwardToOrigin(request, record, adapter, {
      token,
      announce,
      signal,
      proxyAuthKeys: this.env.PROXY_AUTH_KEYS,
      originSessionId: () => this.#record?.originSessionId ?? record.originSessionId,
      learnOriginSessionId: (id) => this.#learnOriginSessionId(id),
      open: this.#open,
      webSocketClosed: (side, code, reason) => {
        this.#store.record("websocket_close", { side, code, reason });
        webSocketEnded(this.env, this.ctx, record, side, code, reason);
      },
      maxMessageBytes: poolLimits(this.env, record.pool).webSocketMessageBytes,
    });
  }

  /** The origin named the session in its stream (WebSocket S): remember it for CR requests. */
  #learnOriginSessionId(originSessionId: string): void {
    const record = this.#record;
    if (record === undefined) {
      // The first message can arrive before #create stored the record; it picks this up.
      this.#pendingOriginSessionId = originSessionId;
      return;
    }
    if (record.originSessionId === originSessionId) return;
    this.#record = { ...record, originSessionId };
    this.#store.save(this.#record);
    this.#store.record("origin_session", { originSessionId });
    registerOriginSessionId(this.ctx, this.env, this.#record, originSessionId);
  }

  /** A response on its way to the client: a WebSocket is logged, a stream kept so it can be ended. */
  #opened(response: Response): Response {
    if (response.status === 101) this.#store.record("websocket_open", {});
    return this.#open.track(response);
  }

  #unreachable(adapter: ProtocolAdapter, record: SessionRecord, reason: string): Response {
    if (this.#record !== undefined) this.#store.record("origin_unreachable", { origin: record.originId, reason });
    // The client is not told which origin (F14): the event log above and the edge's logs say it.
    return adapter.failure(502, "origin_unreachable", "the session's origin cannot be reached", {
      [FAILURE_HEADER]: "origin_unreachable",
    });
  }
}

/** The session is gone (never existed, ended, forgotten): the edge says so in the request's words. */
function sessionGone(record: SessionRecord | undefined): Response {
  const adapter = adapterNamed(record?.adapter ?? "") ?? genericAdapter;
  return adapter.failure(404, "session_not_found", "this session no longer exists; start a new one", {
    [FAILURE_HEADER]: "session_not_found",
  });
}
