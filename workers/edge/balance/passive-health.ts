/**
 * Passive health in an edge isolate: what real traffic says about an origin, the same for
 * every protocol and both transports (the session object answers for either with a failure
 * header or the origin's own status). An origin that could not be reached, or that answered
 * 5xx FIVE_XX_THRESHOLD times in a row within FIVE_XX_WINDOW_MS, is out of placement in this
 * isolate at once and reported to the pool coordinator (off the response path), so every
 * isolate learns it from the next snapshot; active checks bring it back.
 */
import type { PoolCoordinator } from "../../../durable-objects/pool/coordinator.ts";
import type { PoolView } from "./pool-view.ts";

export const FIVE_XX_THRESHOLD = 3;
export const FIVE_XX_WINDOW_MS = 10_000;

export interface PassiveContext {
  readonly view: PoolView;
  /** Called only when there is something to report (a stub costs a name hash). */
  readonly coordinator: () => DurableObjectStub<PoolCoordinator>;
  readonly waitUntil: (promise: Promise<unknown>) => void;
}

/** Consecutive 5xx per pool/origin in this isolate: count and when the run began. */
const runs = new Map<string, { count: number; since: number }>();

/** The origin could not be reached (connection refused, reset, connect timed out). */
export function originUnreachable(ctx: PassiveContext, originId: string): void {
  ctx.view.markDown(originId, "origin_unreachable");
  ctx.waitUntil(ctx.coordinator().reportFailure(originId, "origin_unreachable").catch(() => undefined));
}

/** An answer the origin gave on a real request; a run of 5xx takes it out of placement. */
export function originAnswered(ctx: PassiveContext, originId: string, status: number, now: number = Date.now()): void {
  const key = `${ctx.view.pool.name}/${originId}`;
  if (status < 500 || status > 599) {
    runs.delete(key);
    return;
  }
  const run = runs.get(key);
  const current = run === undefined || now - run.since > FIVE_XX_WINDOW_MS ? { count: 1, since: now } : { count: run.count + 1, since: run.since };
  if (current.count < FIVE_XX_THRESHOLD) {
    runs.set(key, current);
    return;
  }
  runs.delete(key);
  ctx.view.markDown(originId, "http_5xx");
  const detail = `${current.count} in a row within ${Math.ceil((now - current.since) / 1000)} s, the last ${status}`;
  ctx.waitUntil(ctx.coordinator().reportFailure(originId, "http_5xx", detail).catch(() => undefined));
}

/** Forgets every run (tests). */
export function resetPassiveHealth(): void {
  runs.clear();
}
