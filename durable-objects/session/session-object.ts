/**
 * One Durable Object per session, named by the affinity token's `sk`. It holds the
 * authoritative session-to-origin mapping and relays the session's CR requests and
 * WebSockets to that origin — and only to that origin: when the origin cannot be reached
 * the client gets an error in its protocol's words, never a different origin.
 */
import { DurableObject } from "cloudflare:workers";
import { adapterNamed } from "../../protocols/registry.ts";
import { genericAdapter } from "../../protocols/generic.ts";
import { isEndReason, isWebSocketUpgrade, type EndReason, type ProtocolAdapter } from "../../protocols/adapter.ts";
import { log } from "../../observability/log.ts";
import { webSocketEnded } from "../../observability/session-events.ts";
import { isStreamingAnswer, type RelayOutcome } from "../../relay/http-relay.ts";
import { forwardToOrigin } from "./origin-forward.ts";
import { OpenConnections } from "./open-connections.ts";
import { ROUTE_HEADER, decodeRoute, type CreateRoute, type RelayRoute } from "./route.ts";
import { discardAnswer, duplicateCreate, originUnreachable, sessionGone } from "./own-answers.ts";
import { newRecord } from "./new-record.ts";
import { endMessage } from "../../relay/end-message.ts";
import { register, registerOriginSessionId, unregister } from "./registration.ts";
import { SessionStore, type SessionEvent, type SessionRecord } from "./store.ts";
import { IdleDeadline } from "./idle-deadline.ts";
import { bodyTimedOut, bodyTooLarge, boundRelayBody, eitherSignal } from "../../relay/body-limit.ts";
import { ACTIVITY_SCHEMA, ActivityMeter, type Activity } from "../activity.ts";
import { EdgeLegs } from "./edge-legs.ts";
import { LEG_HEADER, encodeGrant, grantResponse, type StreamRewrite } from "./leg-grant.ts";
import type { Leg, LegKind } from "./legs.ts";

export { RECORD_GRACE_MS } from "./store.ts";

/** A session forgotten while a WebSocket of it is still open is looked at again after this. */
const FORGET_RETRY_MS = 60_000;

export interface SessionView {
  readonly record: SessionRecord | undefined;
  readonly events: SessionEvent[];
  /** Relayed by the object itself (mode `object`) plus legs the edge pumps (mode `edge`). */
  readonly openWebSockets: number;
  readonly openStreams: number;
  /** The legs the edge pumps for this session, each with the isolate that pumps it. */
  readonly legs: Leg[];
  /** What the object itself has cost so far (durable-objects/activity.ts). */
  readonly activity: Activity;
}

export class SessionObject extends DurableObject<Env> {
  #store: SessionStore;
  /** The session's record, read from storage when first needed (#load). */
  #recordValue: SessionRecord | undefined;
  #loaded = false;
  readonly #open: OpenConnections;
  readonly #meter: ActivityMeter;
  #legs: EdgeLegs;
  #pendingOriginSessionId: string | undefined;
  readonly #idle = new IdleDeadline(() => this.#store);

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#store = new SessionStore(ctx.storage.sql);
    // Counted into storage only once the session exists (store.ts: no storage for strays).
    this.#meter = new ActivityMeter(ctx.storage.sql, () => this.#store.written);
    this.#legs = new EdgeLegs(ctx.storage.sql, () => this.#store);
    // Relays the object pumps itself (mode `object`) keep it awake: they count as active time.
    this.#open = new OpenConnections(() => this.#meter.pin());
  }

  get #record(): SessionRecord | undefined {
    if (!this.#loaded) this.#load();
    return this.#recordValue;
  }

  set #record(record: SessionRecord | undefined) {
    this.#loaded = true;
    this.#recordValue = record;
  }

  /**
   * Reads the record once per instance, at the first entry point that needs it, not in the
   * constructor: a create must write before it reads (SessionStore.prepareForCreate). A
   * record found means an existing session's object slept (hibernated or was evicted) and woke.
   */
  #load(): void {
    this.#loaded = true;
    this.#recordValue = this.#store.load();
    if (this.#recordValue !== undefined) {
      this.#meter.woke();
      this.#store.record("woke", {});
    }
  }

  override fetch(request: Request): Promise<Response> {
    return this.#meter.run("request", () => {
      const route = decodeRoute(request.headers.get(ROUTE_HEADER));
      if (route === undefined) {
        return genericAdapter.failure(400, "bad_request", "session objects are reached through the edge only");
      }
      // The route is for this object only: the origin never sees it.
      const headers = new Headers(request.headers);
      headers.delete(ROUTE_HEADER);
      const toOrigin = new Request(request, { headers });
      return route.op === "create" ? this.#create(toOrigin, route) : this.#relay(toOrigin, route);
    });
  }

  /** RPC for the admin API: the session's record and event log. */
  describe(): Promise<SessionView> {
    return this.#meter.run("request", () => ({
      record: this.#record,
      events: this.#store.events(),
      openWebSockets: this.#open.webSockets + this.#legs.webSockets,
      openStreams: this.#open.streams + this.#legs.streams,
      legs: this.#legs.all(),
      activity: this.#meter.totals(),
    }));
  }

  /**
   * RPC: ends the session on purpose. Every open connection of the session is told, in its
   * protocol's words, to reconnect (which makes the client open a new session through the
   * edge); requests still waiting for the origin are answered session_not_found, as is
   * every later request. Returns false if there was no live session to end.
   */
  end(reason: EndReason, detail?: string): Promise<boolean> {
    return this.#meter.run("request", () => this.#end(reason, detail));
  }

  async #end(reason: EndReason, detail?: string): Promise<boolean> {
    if (!isEndReason(reason)) throw new TypeError(`not a reason to end a session: ${String(reason)}`);
    const record = this.#record;
    if (record === undefined || record.state === "ended") return false;
    const adapter = adapterNamed(record.adapter) ?? genericAdapter;
    // Marked first, so that nothing that runs after this point sees a live session.
    this.#record = { ...record, state: "ended", endedReason: reason };
    this.#store.save(this.#record);
    this.#store.record("ended", { reason, detail: detail ?? null });
    log("session_ended", { sk: record.sk, pool: record.pool, origin: record.originId, reason, detail });
    const signal = adapter.endSignal(reason, endMessage(reason, detail));
    this.#open.endAll(signal);
    await this.#legs.endAll(record.sk, this.env, signal);
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
  override alarm(): Promise<void> {
    return this.#meter.run("request", () => this.#alarm());
  }

  async #alarm(): Promise<void> {
    const now = Date.now();
    const endAt = this.#store.deadline("end");
    if (endAt !== undefined && endAt <= now) {
      await this.#end("expired", "maximum session duration reached");
      this.#store.clearDeadline("end");
    }
    const record = this.#record;
    if (record !== undefined && record.state === "active" && this.#idle.check(record, now, this.#open.hasOpenConnections() || this.#legs.webSockets + this.#legs.streams > 0) === "end") {
      await this.#end("idle", `no connection and no request for ${Math.round(record.idleMs / 1000)} s`);
    }
    const forgetAt = this.#store.deadline("forget");
    if (forgetAt !== undefined && forgetAt <= now) {
      // A WebSocket still open keeps its record; look again later.
      if (this.#open.webSockets + this.#legs.webSockets > 0) this.#store.setDeadline("forget", now + FORGET_RETRY_MS);
      else return this.#forget();
    }
    await this.#scheduleAlarm();
  }

  async #forget(): Promise<void> {
    const record = this.#record;
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    // deleteAll() drops the schema too: an empty store, known to be empty.
    this.#store = new SessionStore(this.ctx.storage.sql, false);
    this.#legs = new EdgeLegs(this.ctx.storage.sql, () => this.#store);
    this.#meter.storageCleared();
    this.#record = undefined;
    // An ended session has left the registry already; removing it again costs one call.
    if (record !== undefined) await unregister(this.env, record);
  }

  async #scheduleAlarm(): Promise<void> {
    const next = this.#store.nextDeadline();
    if (next === undefined) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(next);
  }

  /**
   * A create's storage, in one batch: the whole schema with the meter's table. False if
   * the object had a schema already; then whether it holds a session is read.
   */
  #prepareForCreate(): boolean {
    if (!this.#store.prepareForCreate(ACTIVITY_SCHEMA)) return false;
    this.#meter.schemaCreated();
    this.#record = undefined;
    return true;
  }

  /**
   * An S request. Nothing is written until the origin has accepted the session, and then
   * all of it — schema, record, events, deadlines, alarm, the object's activity — in one
   * transaction: one commit per created session (fsync), where writing the schema before
   * asking the origin cost a second one, and a refused S writes nothing at all.
   * A second create of one key (a replayed internal request: keys are 128 random bits) is
   * refused with 409 before the origin is asked when this instance knows the session; an
   * instance that has not read its storage yet learns it only once the origin answered
   * (reading first costs every S ~1.5 ms: SessionStore), and the origin's duplicate session
   * is left to expire there.
   */
  async #create(request: Request, route: CreateRoute): Promise<Response> {
    const adapter = adapterNamed(route.adapter) ?? genericAdapter;
    if (this.#knownSession()) return duplicateCreate(adapter);
    const record = newRecord(route, adapter.name, route.relay ?? "object", null);
    // S bodies have no size limit, but a deadline (issue 16 F9): a trickled one is cut —
    // by the edge, when it read the body whole before sending it here (`bodyHeld`).
    const bounded = boundRelayBody(request, Number.POSITIVE_INFINITY, route.bodyHeld === true ? undefined : record.limits.bodyReadMs);
    const outcome = await this.#forward(bounded.request, record, adapter, route.token, route.announce, bounded.signal);
    if (bounded.timedOut()) return bodyTimedOut(adapter, outcome, bounded);
    // The session never existed; the edge may place it elsewhere.
    if (!outcome.ok) return this.#unreachable(adapter, record, outcome.reason);
    // An origin that refused the session (503 full/blocked, 4xx) created nothing: keep no
    // record, so a refused S request costs no storage; its answer goes back as it is.
    if (outcome.response.status >= 400) return outcome.response;
    if (!this.#prepareForCreate() && this.#record !== undefined) {
      await discardAnswer(outcome.response);
      return duplicateCreate(adapter);
    }
    // Over HTTP the origin names its session in this answer; over a WebSocket, in a
    // message still to come (then #learnOriginSessionId records it).
    // Mode `edge`: a stream goes back before the adapter's rewrite, which the edge applies
    // (and tells the object what the origin calls the session before the client hears it).
    const handOff = this.#handsOff(record, route.isolate, outcome.response);
    const created =
      outcome.response.status === 101 || handOff
        ? { response: outcome.response, originSessionId: undefined }
        : await adapter.created(outcome.response, route.token);
    const originSessionId = created.originSessionId ?? this.#pendingOriginSessionId ?? null;
    this.#record = { ...record, originSessionId };
    this.#store.save(this.#record);
    this.#store.record("created", { origin: record.originId, status: outcome.response.status, originSessionId });
    this.#store.setDeadline("forget", record.expiresAt + record.retentionMs);
    if (route.endAt !== undefined) this.#store.setDeadline("end", route.endAt);
    this.#idle.start(record, Date.now());
    // The create's own activity goes in with it, not in a commit of its own at its end.
    this.#meter.checkpoint();
    await this.#scheduleAlarm();
    register(this.ctx, this.env, this.#record);
    return this.#opened(created.response, route.isolate, handOff ? "created" : undefined);
  }

  /** Whether this instance has read (or written) a session of its own: no storage read. */
  #knownSession(): boolean {
    return this.#loaded && this.#recordValue !== undefined;
  }

  /**
   * RPC (relay mode `edge`): the edge opened a WebSocket S request's leg to the origin
   * itself, and the origin accepted it: the session exists from now on. False if it
   * already did (a replayed request): the edge closes its leg.
   */
  createWithLeg(route: CreateRoute, leg: string, isolate: string): Promise<boolean> {
    return this.#meter.run("request", async () => {
      this.#prepareForCreate();
      if (this.#record !== undefined) return false;
      const adapter = adapterNamed(route.adapter) ?? genericAdapter;
      this.#record = newRecord(route, adapter.name, "edge", this.#pendingOriginSessionId ?? null);
      this.#store.save(this.#record);
      this.#store.record("created", { origin: route.origin.id, status: 101, originSessionId: this.#record.originSessionId });
      this.#legs.admit("websocket", isolate, leg);
      this.#store.setDeadline("forget", route.expiresAt + this.#record.retentionMs);
      if (route.endAt !== undefined) this.#store.setDeadline("end", route.endAt);
      this.#idle.start(this.#record, Date.now());
      this.#meter.checkpoint();
      await this.#scheduleAlarm();
      register(this.ctx, this.env, this.#record);
      return true;
    });
  }

  /** RPC (relay mode `edge`): the origin named the session in a WebSocket the edge pumps. */
  originSessionIdLearnt(originSessionId: string): Promise<void> {
    return this.#meter.run("request", () => this.#learnOriginSessionId(originSessionId));
  }

  /** RPC (relay mode `edge`): a leg the edge pumped has ended; `side` ended it first. */
  legClosed(leg: string, kind: LegKind, side: string, code: number, reason: string): Promise<void> {
    return this.#meter.run("request", () => {
      if (this.#record === undefined) return;
      this.#legs.closed(leg, kind, side, code, reason);
      if (kind === "websocket" && this.#record.state === "active") webSocketEnded(this.env, this.ctx, this.#record, side, code, reason);
    });
  }

  /** RPC from an isolate hub: the isolate that pumped these legs is gone. Returns how many were live. */
  legsLost(legs: string[], why: string): Promise<number> {
    return this.#meter.run("request", () => (this.#record === undefined ? 0 : this.#legs.lost(legs, why)));
  }

  async #relay(request: Request, route: RelayRoute): Promise<Response> {
    const record = this.#record;
    if (record === undefined || record.state === "ended") return sessionGone(record);
    const adapter = adapterNamed(record.adapter) ?? genericAdapter;
    if (record.originId !== route.origin || record.pool !== route.pool) {
      return adapter.failure(401, "token_invalid", "token does not match its session");
    }
    this.#idle.touch(record, Date.now());
    if (record.relayMode === "edge" && route.isolate !== undefined) {
      // The edge pumps this WebSocket, or fetches this stream or long-poll, itself, straight
      // to the origin: admitted here, not relayed (the request's body stays with the edge).
      if (isWebSocketUpgrade(request)) return grantResponse(record, this.#legs.admit("websocket", route.isolate));
      if (route.leg !== undefined) return grantResponse(record, this.#legs.admit(route.leg, route.isolate));
    }
    const ids = { token: route.token, originSessionId: record.originSessionId };
    const toOrigin = adapter.toOrigin === undefined ? request : await adapter.toOrigin(request, ids);
    const limits = record.limits;
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
    if (outcome.response.status === 101 || adapter.relayed === undefined) return this.#opened(outcome.response, route.isolate);
    if (this.#handsOff(record, route.isolate, outcome.response)) return this.#opened(outcome.response, route.isolate, "relayed");
    return this.#opened(await adapter.relayed(outcome.response, ids), route.isolate);
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
      maxMessageBytes: record.limits.webSocketMessageBytes,
      maxQueuedBytes: record.limits.webSocketQueueBytes,
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

  /**
   * A response on its way to the client: a WebSocket is logged, a stream kept so it can be
   * ended — by the object (mode `object`), or, in mode `edge`, admitted as a leg that the
   * requesting isolate pumps: its body goes back untouched, so the object is not kept
   * awake by it.
   */
  #opened(response: Response, isolate: string | undefined, rewrite?: StreamRewrite): Response {
    if (response.status === 101) this.#store.record("websocket_open", {});
    const record = this.#record;
    if (record === undefined || isolate === undefined || !this.#handsOff(record, isolate, response)) return this.#open.track(response);
    const leg = this.#legs.admit("stream", isolate);
    const out = new Response(response.body, response);
    const grant = rewrite === undefined ? { leg: leg.id, kind: "stream" as const } : { leg: leg.id, kind: "stream" as const, rewrite, originSessionId: record.originSessionId };
    out.headers.set(LEG_HEADER, encodeGrant(grant));
    return out;
  }

  /** Mode `edge`, and the answer streams: the requesting isolate pumps it, not the object. */
  #handsOff(record: SessionRecord, isolate: string | undefined, response: Response): isolate is string {
    return record.relayMode === "edge" && isolate !== undefined && isStreamingAnswer(response);
  }

  #unreachable(adapter: ProtocolAdapter, record: SessionRecord, reason: string): Response {
    if (this.#knownSession()) this.#store.record("origin_unreachable", { origin: record.originId, reason });
    // The edge's relay_error line names only the kind; the operator needs the runtime's words.
    log("origin_unreachable", { sk: record.sk, pool: record.pool, origin: record.originId, reason }, "error");
    return originUnreachable(adapter);
  }
}
