/**
 * What one edge isolate knows about a pool: the pool coordinator's snapshot (health,
 * operator state, load of every origin), at most `SNAPSHOT_STALE_MS` old, plus the
 * sessions this isolate placed since and the origins it saw fail since. The S path reads
 * it from memory; a stale snapshot is refreshed in the background. Only a cold isolate,
 * or one whose snapshot outlived `SNAPSHOT_EXPIRED_MS` (no S request for a while), waits
 * (bounded) for a fresh one: placing with a view that old could send sessions to an origin
 * that has since been drained or blocked.
 */
import type { PoolCoordinator } from "../../../durable-objects/pool/coordinator.ts";
import type { OriginSnapshot, PoolSnapshot } from "../../../durable-objects/pool/snapshot.ts";
import type { OriginConfig, PoolConfig } from "../../../config/config.ts";
import { restoreDelta, takeDelta } from "../../../observability/metrics.ts";
import type { Candidate } from "./pick.ts";

export const SNAPSHOT_STALE_MS = 2_000;
/** Older than this, a snapshot is not trusted for placement without trying to refresh it first. */
export const SNAPSHOT_EXPIRED_MS = 5_000;
/** A slow-starting origin begins at this share of its weight. */
const SLOW_START_FLOOR = 0.1;

export interface OriginView extends OriginSnapshot {
  /** Sessions this isolate placed since the snapshot was taken. */
  readonly placed: number;
  /** Set when this isolate saw the origin fail since the snapshot. */
  readonly failedHere: string | undefined;
}

export class PoolView {
  readonly pool: PoolConfig;
  readonly #hash: string;
  #snapshot: PoolSnapshot | undefined;
  #fetchedAt = 0;
  #refreshing: Promise<void> | undefined;
  readonly #placed = new Map<string, number>();
  readonly #failed = new Map<string, string>();

  constructor(pool: PoolConfig) {
    this.pool = pool;
    this.#hash = configHash(pool);
  }

  get hasSnapshot(): boolean {
    return this.#snapshot !== undefined;
  }

  get snapshot(): PoolSnapshot | undefined {
    return this.#snapshot;
  }

  isStale(now: number): boolean {
    return now - this.#fetchedAt > SNAPSHOT_STALE_MS;
  }

  /** Too old to place with: an isolate busy with S requests refreshes long before this. */
  isExpired(now: number): boolean {
    return now - this.#fetchedAt > SNAPSHOT_EXPIRED_MS;
  }

  origins(): OriginView[] {
    return (this.#snapshot?.origins ?? []).map((o) => ({
      ...o,
      placed: this.#placed.get(o.id) ?? 0,
      failedHere: this.#failed.get(o.id),
    }));
  }

  origin(id: string): OriginView | undefined {
    return this.origins().find((o) => o.id === id);
  }

  /** Origins as P2C sees them: only healthy, active ones are eligible; slow start scales weight. */
  candidates(now: number): Candidate[] {
    const slowStartMs = (this.#snapshot?.settings.slowStartSeconds ?? 0) * 1000;
    return this.origins().map((o) => ({
      id: o.id,
      weight: o.config.weight * slowStart(now - o.joinedAt, slowStartMs),
      sessions: liveSessions(o) + o.placed,
      capacity: capacityOf(o),
      eligible: o.healthy && o.failedHere === undefined && o.adminState === "active" && (o.reportedState === "active" || o.reportedState === "unknown"),
    }));
  }

  config(id: string): OriginConfig | undefined {
    return this.origin(id)?.config;
  }

  notePlaced(id: string): void {
    this.#placed.set(id, (this.#placed.get(id) ?? 0) + 1);
  }

  /** Takes back a placement that did not happen (never below zero: a refresh may have cleared it). */
  forgetPlaced(id: string): void {
    const n = this.#placed.get(id) ?? 0;
    if (n > 1) this.#placed.set(id, n - 1);
    else this.#placed.delete(id);
  }

  /** Passive detection: no more S requests there from this isolate until a newer snapshot. */
  markDown(id: string, reason: string): void {
    this.#failed.set(id, reason);
  }

  /**
   * Takes `snapshot` as this isolate's view, unless it is older than the one held: an
   * admin change made through this isolate (a drain begun) is placed with at once, and a
   * refresh that was already in flight must not bring the old state back — a drained
   * session's client reconnecting in that window would land on the draining origin again.
   */
  adopt(snapshot: PoolSnapshot): void {
    if (this.#snapshot !== undefined && snapshot.takenAt < this.#snapshot.takenAt) return;
    this.#snapshot = snapshot;
    this.#fetchedAt = Date.now();
    this.#placed.clear();
    this.#failed.clear();
  }

  /** Fetches a fresh snapshot (carrying this isolate's metrics); concurrent callers share one fetch. */
  refresh(coordinator: DurableObjectStub<PoolCoordinator>): Promise<void> {
    this.#refreshing ??= this.#fetch(coordinator);
    return this.#refreshing;
  }

  #fetch(coordinator: DurableObjectStub<PoolCoordinator>): Promise<void> {
    const metrics = takeDelta(this.pool.name);
    return coordinator
      .snapshot(this.pool, this.#hash, metrics)
      .catch((err: unknown) => {
        if (metrics !== undefined) restoreDelta(this.pool.name, metrics);
        throw err;
      })
      .then((snapshot) => this.adopt(snapshot))
      .finally(() => {
        this.#refreshing = undefined;
      });
  }
}

export function capacityOf(o: Pick<OriginSnapshot, "config" | "reportedCapacity">): number {
  // The configured capacity is the operator's word; a smaller reported one is respected.
  return Math.min(o.config.capacity, o.reportedCapacity ?? Number.POSITIVE_INFINITY);
}

/**
 * Sessions that count against an origin's capacity: the edge's own count (the registry),
 * reconciled with the origin's where it reports one — a session the origin no longer has
 * (its client went away, the origin expired it) must never keep a new one out, while the
 * registry still lists it until its session object ends.
 */
export function liveSessions(o: Pick<OriginSnapshot, "sessions" | "reportedSessions">): number {
  return o.reportedSessions === null || o.reportedSessions === undefined ? o.sessions : Math.min(o.sessions, o.reportedSessions);
}

function slowStart(sinceJoinedMs: number, slowStartMs: number): number {
  if (slowStartMs <= 0 || sinceJoinedMs >= slowStartMs) return 1;
  return Math.max(SLOW_START_FLOOR, sinceJoinedMs / slowStartMs);
}

/** A short fingerprint of the deployed pool configuration (FNV-1a of its JSON). */
export function configHash(pool: PoolConfig): string {
  const text = JSON.stringify(pool);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16);
}

/** One view per pool per isolate, rebuilt if the pool's configuration object changes. */
let views = new WeakMap<PoolConfig, PoolView>();

/** Forgets every pool view, so the next request starts from a fresh snapshot (tests). */
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
