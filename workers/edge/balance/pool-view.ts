/**
 * What one edge isolate knows about a pool's origins: health and load from each origin's
 * `/health`, plus the sessions this isolate placed since the last report. It is a cached
 * snapshot refreshed in the background when stale, so the S path never waits on a
 * per-request round trip (only a cold isolate waits, once, for its first snapshot).
 *
 * Passive detection: a relay that cannot reach an origin marks it down at once; the next
 * successful health check brings it back.
 */
import { FETCH_TRANSPORT, type TransportSettings } from "../../../durable-objects/session/transport/settings.ts";
import { tcpHealthFetch, type HealthFetch } from "../../../durable-objects/session/transport/tcp-health-fetch.ts";
import type { OriginConfig, PoolConfig } from "../config.ts";
import type { Candidate } from "./pick.ts";

export type OriginState = "active" | "draining" | "blocked" | "unknown";

export interface OriginStatus {
  readonly id: string;
  readonly url: string;
  readonly weight: number;
  /** How sessions (and health checks) reach the origin. */
  readonly transport: TransportSettings;
  healthy: boolean;
  state: OriginState;
  /** Sessions the origin reported at the last check. */
  reportedSessions: number;
  /** Sessions this isolate placed since that report. */
  placedSinceReport: number;
  /** Effective capacity: the configured one, or a smaller one the origin reports. */
  capacity: number;
  readonly configuredCapacity: number;
  checkedAt: number;
  lastError: string | undefined;
}

export const HEALTH_STALE_MS = 2_000;
export const HEALTH_TIMEOUT_MS = 1_500;

export class PoolView {
  readonly pool: PoolConfig;
  readonly #origins: Map<string, OriginStatus>;
  #refreshing: Promise<void> | undefined;
  #refreshedAt = 0;

  constructor(pool: PoolConfig) {
    this.pool = pool;
    this.#origins = new Map(pool.origins.map((o) => [o.id, initialStatus(o)]));
  }

  origin(id: string): OriginStatus | undefined {
    return this.#origins.get(id);
  }

  statuses(): OriginStatus[] {
    return [...this.#origins.values()];
  }

  candidates(): Candidate[] {
    return this.statuses().map((s) => ({
      id: s.id,
      weight: s.weight,
      sessions: s.reportedSessions + s.placedSinceReport,
      capacity: s.capacity,
      eligible: s.healthy && s.state === "active",
    }));
  }

  get hasSnapshot(): boolean {
    return this.#refreshedAt > 0;
  }

  isStale(now: number): boolean {
    return now - this.#refreshedAt > HEALTH_STALE_MS;
  }

  notePlaced(id: string): void {
    const s = this.#origins.get(id);
    if (s !== undefined) s.placedSinceReport += 1;
  }

  markDown(id: string, reason: string): void {
    const s = this.#origins.get(id);
    if (s === undefined) return;
    s.healthy = false;
    s.lastError = reason;
  }

  /** Refreshes every origin's status; concurrent callers share one refresh. */
  refresh(fetcher: HealthFetch = fetch): Promise<void> {
    this.#refreshing ??= Promise.all(this.statuses().map((s) => checkOrigin(s, fetcher))).then(
      () => {
        this.#refreshedAt = Date.now();
        this.#refreshing = undefined;
      },
      () => {
        this.#refreshing = undefined;
      },
    );
    return this.#refreshing;
  }
}

function initialStatus(o: OriginConfig): OriginStatus {
  return {
    id: o.id,
    url: o.url,
    weight: o.weight,
    transport: o.transport === "tcp" && o.proxy !== undefined ? { kind: "tcp", proxy: o.proxy } : FETCH_TRANSPORT,
    healthy: false,
    state: "unknown",
    reportedSessions: 0,
    placedSinceReport: 0,
    capacity: o.capacity,
    configuredCapacity: o.capacity,
    checkedAt: 0,
    lastError: "not checked yet",
  };
}

async function checkOrigin(s: OriginStatus, fetcher: HealthFetch): Promise<void> {
  try {
    // A PROXY-only origin refuses a plain fetch(): check it the way its sessions reach it.
    const check = s.transport.kind === "tcp" ? tcpHealthFetch(s.transport.proxy) : fetcher;
    const res = await check(`${s.url}/health`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
    const body: unknown = await res.json().catch(() => undefined);
    s.checkedAt = Date.now();
    if (!res.ok || typeof body !== "object" || body === null) {
      s.healthy = false;
      s.lastError = `health check answered ${res.status}`;
      return;
    }
    const report = body as { state?: unknown; sessions?: unknown; capacity?: unknown };
    s.healthy = true;
    s.lastError = undefined;
    s.state = report.state === "draining" || report.state === "blocked" ? report.state : "active";
    if (typeof report.sessions === "number" && report.sessions >= 0) {
      s.reportedSessions = report.sessions;
      s.placedSinceReport = 0;
    }
    // The configured capacity is the operator's word; a smaller reported one is respected.
    if (typeof report.capacity === "number" && report.capacity > 0) s.capacity = Math.min(s.configuredCapacity, report.capacity);
  } catch (err) {
    s.checkedAt = Date.now();
    s.healthy = false;
    s.lastError = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  }
}

/** One view per pool per isolate, rebuilt if the pool's configuration object changes. */
let views = new WeakMap<PoolConfig, PoolView>();

/** Forgets every pool view, so the next request starts from a fresh health check (tests). */
export function resetPoolViews(): void {
  views = new WeakMap();
}

export function poolView(pool: PoolConfig): PoolView {
  let view = views.get(pool);
  if (view === undefined) {
    view = new PoolView(pool);
    views.set(pool, view);
  }
  return view;
}
