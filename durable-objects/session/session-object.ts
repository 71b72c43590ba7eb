/**
 * One Durable Object per session, named by the affinity token's `sk`. It holds the
 * authoritative session-to-origin mapping and relays the session's CR requests and
 * WebSockets to that origin — and only to that origin: when the origin cannot be reached
 * the client gets an error in its protocol's words, never a different origin.
 */
import { DurableObject } from "cloudflare:workers";
import { adapterNamed } from "../../workers/edge/protocols/registry.ts";
import { genericAdapter } from "../../workers/edge/protocols/generic.ts";
import { isWebSocketUpgrade, type ProtocolAdapter, type SessionIds } from "../../workers/edge/protocols/adapter.ts";
import { relayHttp, type RelayOutcome } from "./http-relay.ts";
import { relayWebSocket } from "./websocket-relay.ts";
import { FAILURE_HEADER, ROUTE_HEADER, decodeRoute, type CreateRoute, type RelayRoute } from "./route.ts";
import { SessionStore, type SessionEvent, type SessionRecord } from "./store.ts";
import type { OriginLink } from "./transport/origin-link.ts";
import { FETCH_TRANSPORT, transportFromWire } from "./transport/settings.ts";

/** How long a session's record outlives its token, for post-mortems through the admin API. */
export const RECORD_GRACE_MS = 10 * 60 * 1000;

export interface SessionView {
  readonly record: SessionRecord | undefined;
  readonly events: SessionEvent[];
  readonly openWebSockets: number;
}

export class SessionObject extends DurableObject<Env> {
  #store: SessionStore;
  #record: SessionRecord | undefined;
  #openWebSockets = 0;
  #pendingOriginSessionId: string | undefined;

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
    return { record: this.#record, events: this.#store.events(), openWebSockets: this.#openWebSockets };
  }

  override async alarm(): Promise<void> {
    const record = this.#record;
    if (record === undefined) return;
    const deadline = record.expiresAt + RECORD_GRACE_MS;
    // A WebSocket still open keeps its record; look again later.
    if (this.#openWebSockets > 0 || Date.now() < deadline) {
      await this.ctx.storage.setAlarm(Math.max(deadline, Date.now() + RECORD_GRACE_MS));
      return;
    }
    await this.ctx.storage.deleteAll();
    // deleteAll() drops the schema too; start again from an empty, migrated store.
    this.#store = new SessionStore(this.ctx.storage.sql);
    this.#record = undefined;
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
    };
    const outcome = await this.#forward(request, record, adapter, route.token, route.announce);
    if (!outcome.ok) {
      // The session never existed (nothing was stored); the edge may place it elsewhere.
      return this.#unreachable(adapter, record, outcome.reason);
    }
    // An origin that refused the session (503 full/blocked, 4xx) created nothing: keep no
    // record, so a refused S request costs no storage; its answer goes back as it is.
    if (outcome.response.status >= 400) return outcome.response;
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
    await this.ctx.storage.setAlarm(record.expiresAt + RECORD_GRACE_MS);
    return this.#opened(created.response);
  }

  async #relay(request: Request, route: RelayRoute): Promise<Response> {
    const record = this.#record;
    if (record === undefined || record.state === "ended") {
      const adapter = adapterNamed(record?.adapter ?? "") ?? genericAdapter;
      return adapter.failure(404, "session_not_found", "this session no longer exists; start a new one", {
        [FAILURE_HEADER]: "session_not_found",
      });
    }
    const adapter = adapterNamed(record.adapter) ?? genericAdapter;
    if (record.originId !== route.origin || record.pool !== route.pool) {
      return adapter.failure(401, "token_invalid", "token does not match its session");
    }
    const ids = { token: route.token, originSessionId: record.originSessionId };
    const toOrigin = adapter.toOrigin === undefined ? request : await adapter.toOrigin(request, ids);
    const outcome = await this.#forward(toOrigin, record, adapter, route.token, false);
    if (!outcome.ok) return this.#unreachable(adapter, record, outcome.reason);
    if (outcome.response.status === 101 || adapter.relayed === undefined) return this.#opened(outcome.response);
    return adapter.relayed(outcome.response, ids);
  }

  #forward(
    request: Request,
    record: SessionRecord,
    adapter: ProtocolAdapter,
    token: string,
    announce: boolean,
  ): Promise<RelayOutcome> {
    const link: OriginLink = {
      url: record.originUrl,
      transport: record.originTransport,
      sessionKey: record.sk,
      proxyAuthKeys: this.env.PROXY_AUTH_KEYS,
    };
    if (!isWebSocketUpgrade(request)) return relayHttp(request, link);
    const ids = (): SessionIds => ({ token, originSessionId: this.#record?.originSessionId ?? record.originSessionId });
    // Every origin message is offered to the adapter: a protocol may name the session
    // again later (TLCP answers each WebSocket poll with a fresh CONOK).
    const originMessage = adapter.originMessage;
    const fromOrigin = (data: string): string => {
      const rewritten = originMessage?.(data, ids());
      if (rewritten === undefined) return data;
      if (rewritten.originSessionId !== undefined) this.#learnOriginSessionId(rewritten.originSessionId);
      return rewritten.data;
    };
    const clientMessage = adapter.clientMessage;
    return relayWebSocket(request, link, {
      ...(announce ? { firstMessage: JSON.stringify({ type: "push-edge.affinity", token }) } : {}),
      ...(originMessage === undefined ? {} : { fromOrigin }),
      ...(clientMessage === undefined ? {} : { fromClient: (data: string) => clientMessage(data, ids()) }),
      onClose: (side, code, reason) => this.#webSocketClosed(side, code, reason),
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
  }

  /** Counts a relayed WebSocket once the session's record is in place. */
  #opened(response: Response): Response {
    if (response.status === 101) {
      this.#openWebSockets += 1;
      this.#store.record("websocket_open", {});
    }
    return response;
  }

  #webSocketClosed(side: "client" | "origin", code: number, reason: string): void {
    this.#store.record("websocket_close", { side, code, reason });
    this.#openWebSockets = Math.max(0, this.#openWebSockets - 1);
  }

  #unreachable(adapter: ProtocolAdapter, record: SessionRecord, reason: string): Response {
    if (this.#record !== undefined) this.#store.record("origin_unreachable", { origin: record.originId, reason });
    return adapter.failure(502, "origin_unreachable", `origin ${record.originId} cannot be reached`, {
      [FAILURE_HEADER]: "origin_unreachable",
    });
  }
}
