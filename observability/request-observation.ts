/**
 * What the edge notes about one S or CR request, from its routes' single-line hooks:
 * where it was placed or routed, why it was refused, what failed. `finish()` (called once
 * by the router, sessions.ts) turns it into counters, a latency observation, an Analytics
 * Engine data point, and schedules the flush of this isolate's metrics — all in memory or
 * after the response; nothing here makes the request wait.
 */
import type { TokenFailure } from "../workers/edge/token/verify.ts";
import { statusClass, writeAnalyticsPoint } from "./analytics.ts";
import { log } from "./log.ts";
import { count, observe, scheduleFlush } from "./metrics.ts";

export type RequestKind = "S" | "CR" | "first_message" | "stateless";

export type RefusalReason = "rate_limit" | "no_origin" | "network_budget" | "edge_busy";

export class RequestObservation {
  readonly kind: RequestKind;
  readonly pool: string;
  readonly #env: Env;
  readonly #waitUntil: (p: Promise<unknown>) => void;
  readonly #startedAt = Date.now();
  #origin: string | undefined;
  #sk: string | undefined;
  #outcome: string | undefined;

  constructor(kind: RequestKind, pool: string, env: Env, waitUntil: (p: Promise<unknown>) => void) {
    this.kind = kind;
    this.pool = pool;
    this.#env = env;
    this.#waitUntil = waitUntil;
  }

  /** S: a new session on `origin`. */
  placed(origin: string, sk: string, adapter: string): void {
    this.#at(origin, sk, "placed");
    count(this.pool, "edge_sessions_placed_total", { origin });
    log("session_placed", { sk, pool: this.pool, origin, adapter });
    this.#flushSoon();
  }

  /** S: refused with 503. */
  refused(reason: RefusalReason): void {
    this.#outcome = reason;
    count(this.pool, "edge_admission_rejections_total", { reason });
    log("session_refused", { pool: this.pool, reason });
    this.#flushSoon();
  }

  /** CR: the token names this session on this origin. */
  routed(origin: string, sk: string): void {
    this.#at(origin, sk, "relayed");
  }

  /** CR: the token failed verification (the request reached no Durable Object). */
  tokenRefused(reason: TokenFailure, carrier: string): void {
    this.#outcome = `token_${reason}`;
    count(this.pool, "edge_token_failures_total", { reason });
    log("token_refused", { pool: this.pool, reason, carrier });
    this.#flushSoon();
  }

  /** The origin could not be reached or refused (S tries another; CR gets 502). */
  relayError(origin: string, kind: string, sk?: string): void {
    this.#outcome = kind;
    count(this.pool, "edge_relay_errors_total", { origin, kind });
    log("relay_error", { sk: sk ?? this.#sk, pool: this.pool, origin, kind, request: this.kind }, "error");
    this.#flushSoon();
  }

  /** Once per request (the router), with the status the client gets. */
  finish(status: number): void {
    const seconds = (Date.now() - this.#startedAt) / 1000;
    count(this.pool, "edge_requests_total", { kind: this.kind, status: statusClass(status) });
    observe(this.pool, "edge_request_duration_seconds", { kind: this.kind }, seconds);
    writeAnalyticsPoint(this.#env, {
      pool: this.pool,
      kind: this.kind,
      origin: this.#origin,
      status,
      outcome: this.#outcome ?? (status < 400 ? "ok" : "error"),
      seconds,
    });
    this.#flushSoon();
  }

  /**
   * Hooks may run after finish() (a first-message WebSocket places its session later), so
   * each one makes sure a flush is coming.
   */
  #flushSoon(): void {
    scheduleFlush(this.#env, this.#waitUntil);
  }

  #at(origin: string, sk: string, outcome: string): void {
    this.#origin = origin;
    this.#sk = sk;
    this.#outcome = outcome;
  }
}
