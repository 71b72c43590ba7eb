/**
 * The pool coordinator: one Durable Object per pool, the authoritative view of its
 * origins — health (active checks on an alarm, rise/fall; passive reports from failed
 * relays), operator state (active / draining / blocked / maintenance), load — and the
 * one that moves sessions on purpose: drains at a given rate, and — after an origin joins
 * or recovers — rebalancing while the spread of sessions exceeds the tolerance.
 *
 * Edge isolates never ask it per request: they cache its snapshot for a couple of
 * seconds (workers/edge/balance/pool-view.ts). See docs/pool-coordinator.md for why this
 * holds at 10,000 session creations per second.
 */
import { DurableObject } from "cloudflare:workers";
import type { OriginConfig, PoolConfig } from "../../config/config.ts";
import { DEFAULT_POOL_SETTINGS, type PoolSettings } from "../../config/pool-settings.ts";
import { effectiveHealth, type HealthSettings } from "../../config/health-settings.ts";
import { FETCH_TRANSPORT, transportFromWire } from "../../relay/transport/settings.ts";
import type { MetricsDelta } from "../../observability/series.ts";
import { log } from "../../observability/log.ts";
import { originAccess } from "./checks/origin-access.ts";
import { checkHealth, type AutoMemory } from "./health-check.ts";
import { isPassiveKind, passiveFailureText } from "./passive-failure.ts";
import { MetricsStore } from "./metrics-store.ts";
import { drainStep, rebalanceStep } from "./moves.ts";
import { OriginTable, type OriginState } from "./origin-table.ts";
import { SessionHistory, type HistoryPoint } from "./session-history.ts";
import { countSessionsOn, endLostSessions, endSessionsOn } from "./sessions-on-origin.ts";
import type { AdminState, PoolSnapshot } from "./snapshot.ts";

/** A pool nobody has asked about for this long stops being checked (its alarm lapses). */
export const IDLE_AFTER_MS = 10 * 60 * 1000;

export class PoolCoordinator extends DurableObject<Env> {
  readonly #table: OriginTable;
  readonly #metrics: MetricsStore;
  readonly #history = new SessionHistory();
  /** What the default check learnt of each origin (whether it serves push-edge's JSON /health). */
  readonly #auto = new Map<string, AutoMemory>();
  /** When each origin was last checked actively (origins may have their own interval). */
  readonly #checkedAt = new Map<string, number>();
  #ticking: Promise<void> | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#table = new OriginTable(ctx.storage.sql);
    this.#metrics = new MetricsStore(ctx.storage.sql);
  }

  /** An edge isolate's metric deltas since its last flush (observability/metrics.ts). */
  addMetrics(delta: MetricsDelta): void {
    this.#metrics.add(delta);
  }

  /** The pool's fleet-wide metric totals (/_edge/metrics). */
  metricTotals(): MetricsDelta {
    return this.#metrics.totals();
  }

  /** Sessions per origin over the last minutes (the dashboard's chart). */
  history(): HistoryPoint[] {
    return this.#history.points();
  }

  /**
   * The pool's snapshot for an edge isolate. The isolate passes its configuration, which
   * seeds (or, after a redeploy, updates) the table; the first call also runs the first
   * round of health checks, so a new pool starts with facts rather than guesses.
   */
  async snapshot(pool: PoolConfig, configHash: string, metrics?: MetricsDelta): Promise<PoolSnapshot> {
    // The isolate's metric deltas ride along (observability/metrics.ts): no call of their own.
    if (metrics !== undefined) this.#metrics.add(metrics);
    this.#table.sync(pool, configHash);
    const now = Date.now();
    this.#table.noteRead(now);
    if (this.#table.origins().some((o) => o.checkedAt === 0)) await this.#tick();
    await this.#ensureAlarm();
    const snapshot = this.#table.snapshot(Date.now());
    if (snapshot === undefined) throw new Error(`pool ${pool.name} has no state after sync`);
    return snapshot;
  }

  /**
   * Passive health: real traffic failed on the origin (passive-failure.ts). It counts for a
   * whole fall — the next S must not go there — and the pool view says it came from traffic.
   */
  reportFailure(originId: string, kind: string, detail?: string): void {
    const text = isPassiveKind(kind) ? passiveFailureText(kind, detail) : `traffic: ${kind}`;
    const was = this.#table.origin(originId)?.healthy;
    this.#table.markFailed(originId, text, 1, Date.now(), "traffic");
    this.#logChange(originId, was);
  }

  /** One log line when an origin goes down or comes back, with why (README "Logs"). */
  #logChange(originId: string, was: boolean | undefined): void {
    const now = this.#table.origin(originId);
    if (was === undefined || now === undefined || now.healthy === was) return;
    const pool = this.#table.snapshot(Date.now())?.pool ?? "";
    if (now.healthy) log("origin_up", { pool, origin: originId, check: now.checkNote });
    else log("origin_down", { pool, origin: originId, reason: now.lastError, source: now.errorSource }, "error");
  }

  /** The operator's view: the snapshot plus drain progress (admin API). */
  view(): PoolSnapshot | undefined {
    return this.#table.snapshot(Date.now());
  }

  setOriginState(originId: string, state: AdminState, rate = 0): PoolSnapshot | undefined {
    if (this.#table.origin(originId) === undefined) return undefined;
    this.#table.setAdminState(originId, state, rate);
    return this.#table.snapshot(Date.now());
  }

  addOrigin(config: OriginConfig): PoolSnapshot | undefined {
    this.#table.add(config);
    return this.#table.snapshot(Date.now());
  }

  updateOrigin(config: OriginConfig): PoolSnapshot | undefined {
    if (this.#table.origin(config.id) === undefined) return undefined;
    this.#table.updateConfig(config);
    return this.#table.snapshot(Date.now());
  }

  removeOrigin(originId: string): boolean {
    if (this.#table.origin(originId) === undefined) return false;
    this.#table.remove(originId);
    return true;
  }

  override async alarm(): Promise<void> {
    await this.#tick();
    const { lastRead } = this.#table.rebalanceState();
    const draining = this.#table.origins().some((o) => o.drainRate > 0);
    if (draining || Date.now() - lastRead < IDLE_AFTER_MS) await this.#scheduleNext();
  }

  async #ensureAlarm(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) await this.#scheduleNext();
  }

  async #scheduleNext(): Promise<void> {
    // Origins may check more often than their pool: the alarm follows the shortest interval.
    await this.ctx.storage.setAlarm(Date.now() + this.#tickMs(this.#settings()));
  }

  /** The alarm's period: the shortest health interval of the pool and its origins. */
  #tickMs(settings: PoolSettings): number {
    return Math.min(settings.health.intervalMs, ...this.#table.origins().map((o) => this.#healthOf(settings, o).intervalMs));
  }

  /** An origin's health settings: its own over its pool's (validated with the config; the pool's if not). */
  #healthOf(settings: PoolSettings, o: OriginState): HealthSettings {
    return effectiveHealth(settings.health, o.config.health);
  }

  /** One active check of an origin, if its interval has passed; returns what it reported (undefined: not due). */
  async #check(settings: PoolSettings, o: OriginState, now: number): Promise<Awaited<ReturnType<typeof checkHealth>> | undefined> {
    const h = this.#healthOf(settings, o);
    // Every round checks origins on the round's own period; one with a longer interval of
    // its own waits for it (an alarm may fire a little early: within 10% counts as due).
    const longer = h.intervalMs > this.#tickMs(settings);
    if (longer && o.checkedAt !== 0 && now - (this.#checkedAt.get(o.id) ?? 0) < h.intervalMs * 0.9) return undefined;
    this.#checkedAt.set(o.id, now);
    let memory = this.#auto.get(o.id);
    if (memory === undefined) {
      memory = { json: undefined, askedAt: 0 };
      this.#auto.set(o.id, memory);
    }
    const access = originAccess(transportFromWire(o.config) ?? FETCH_TRANSPORT);
    const result = await checkHealth({ url: o.config.url, settings: h, access, memory, now });
    const was = this.#table.origin(o.id)?.healthy;
    this.#table.recordCheck(o.id, result, h.rise, h.fall, Date.now());
    // The very first check of an origin decides its state; only changes after that are news.
    if (o.checkedAt !== 0) this.#logChange(o.id, was);
    return result;
  }

  #settings(): PoolSettings {
    return this.#table.settings() ?? DEFAULT_POOL_SETTINGS;
  }

  /** One round: health checks, session counts, drains, rebalancing. Concurrent callers share it. */
  #tick(): Promise<void> {
    this.#ticking ??= this.#runTick().finally(() => {
      this.#ticking = undefined;
    });
    return this.#ticking;
  }

  async #runTick(): Promise<void> {
    const settings = this.#settings();
    const pool = this.#table.snapshot(Date.now())?.pool;
    if (pool === undefined) return;
    const origins = this.#table.origins();
    const started = Date.now();
    await Promise.all(
      origins.map(async (o) => {
        const result = await this.#check(settings, o, started);
        await this.#endLost(pool, o.id);
        // `sessions` is the edge's own count of live sessions it placed there (the
        // registry): those are the ones drains and rebalancing can end. Placement
        // reconciles it with the origin's own count where there is one (pool-view.ts):
        // sessions the origin no longer has never keep a new one out. The report stands
        // in when the registry cannot answer.
        const counted = await countSessionsOn(this.env, pool, o.id).catch(() => undefined);
        if (counted !== undefined) this.#table.setSessions(o.id, counted);
        else if (result?.ok === true && result.sessions !== undefined) this.#table.setSessions(o.id, result.sessions);
      }),
    );
    const now = Date.now();
    const { credit, lastTick, rebalanced } = this.#table.rebalanceState();
    const elapsed = lastTick === 0 ? 0 : (now - lastTick) / 1000;
    await this.#drain(pool, elapsed);
    const moved = settings.rebalance.enabled ? await this.#rebalance(pool, settings, credit, elapsed) : { ended: 0, credit: 0 };
    this.#table.setTick(now, rebalanced + moved.ended, moved.credit);
    this.#history.record(now, Object.fromEntries(this.#table.origins().map((o) => [o.id, o.sessions])));
  }

  /**
   * The origin restarted (its health `instance` changed): the sessions its earlier run held
   * are gone. End them — clients still attached are told to start again — so they stop
   * counting as its load; otherwise rebalancing would see a full origin that is empty.
   */
  async #endLost(pool: string, originId: string): Promise<void> {
    const lostBefore = this.#table.origin(originId)?.lostBefore ?? 0;
    if (lostBefore === 0) return;
    const { ended, left } = await endLostSessions(this.env, pool, originId, lostBefore).catch(() => ({ ended: 0, left: 1 }));
    this.#metrics.count("edge_sessions_ended_total", { pool, origin: originId, reason: "origin_restarted" }, ended);
    if (ended > 0) log("origin_restarted", { pool, origin: originId, ended, left });
    if (left === 0) this.#table.clearLost(originId, lostBefore);
  }

  async #drain(pool: string, elapsed: number): Promise<void> {
    for (const o of this.#table.origins()) {
      if (o.drainRate <= 0 || (o.adminState !== "draining" && o.adminState !== "maintenance")) continue;
      const step = drainStep(o.drainRate, o.drainCredit, elapsed, o.sessions);
      const ended = step.toEnd > 0 ? await endSessionsOn(this.env, pool, o.id, step.toEnd, "drain") : 0;
      this.#table.setDrainProgress(o.id, o.drained + ended, ended < step.toEnd ? 0 : step.credit);
      this.#metrics.count("edge_sessions_ended_total", { pool, origin: o.id, reason: "drain" }, ended);
      if (ended > 0) this.#table.setSessions(o.id, Math.max(0, o.sessions - ended));
    }
  }

  async #rebalance(pool: string, settings: PoolSettings, credit: number, elapsed: number): Promise<{ ended: number; credit: number }> {
    const eligible = this.#table.origins().filter((o) => o.healthy && o.adminState === "active");
    const now = Date.now();
    const windowMs = settings.rebalance.windowSeconds * 1000;
    if (!eligible.some((o) => o.joinedAt > 0 && now - o.joinedAt < windowMs)) return { ended: 0, credit: 0 };
    const loads = eligible.map((o) => ({ id: o.id, sessions: o.sessions, capacity: capacityOf(o) }));
    const step = rebalanceStep(loads, settings.rebalance, credit, elapsed);
    if (step.origin === undefined || step.toEnd === 0) return { ended: 0, credit: step.credit };
    const ended = await endSessionsOn(this.env, pool, step.origin, step.toEnd, "rebalance");
    this.#metrics.count("edge_sessions_ended_total", { pool, origin: step.origin, reason: "rebalance" }, ended);
    return { ended, credit: step.credit };
  }
}

function capacityOf(o: OriginState): number {
  return Math.min(o.config.capacity, o.reportedCapacity ?? Number.POSITIVE_INFINITY);
}
