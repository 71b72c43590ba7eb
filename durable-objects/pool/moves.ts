/**
 * How many sessions to end on this tick, for drains and for rebalancing: pure arithmetic,
 * so the rates can be tested without clocks. Both accumulate a fractional credit
 * (rate × elapsed seconds) and spend whole sessions of it, which keeps the rate exact at
 * any tick length and never bursts after a pause (the elapsed time is capped).
 */

/** Longest stretch a single tick accounts for; after a pause the rate does not burst. */
export const MAX_TICK_SECONDS = 5;

export interface Step {
  readonly toEnd: number;
  readonly credit: number;
}

export function drainStep(rate: number, credit: number, elapsedSeconds: number, remaining: number): Step {
  const available = credit + rate * Math.min(elapsedSeconds, MAX_TICK_SECONDS);
  const toEnd = Math.max(0, Math.min(Math.floor(available), remaining));
  // Credit beyond what the origin still holds is not saved for later.
  return { toEnd, credit: toEnd < Math.floor(available) ? 0 : available - toEnd };
}

export interface Load {
  readonly id: string;
  readonly sessions: number;
  readonly capacity: number;
}

export interface RebalanceSettings {
  readonly tolerance: number;
  readonly sessionsPerSecond: number;
  readonly minSessionsPerOrigin: number;
}

/**
 * Picks the most loaded origin and how many of its sessions to end when the spread
 * (max load / mean load, load = sessions / capacity) exceeds the tolerance; undefined when
 * the pool is balanced enough (and the credit then resets, so no backlog builds up).
 */
export function rebalanceStep(
  origins: readonly Load[],
  settings: RebalanceSettings,
  credit: number,
  elapsedSeconds: number,
): { origin: string; toEnd: number; credit: number } | { origin: undefined; toEnd: 0; credit: number } {
  const idle = { origin: undefined, toEnd: 0 as const, credit: 0 };
  if (origins.length < 2) return idle;
  const total = origins.reduce((sum, o) => sum + o.sessions, 0);
  if (total / origins.length < settings.minSessionsPerOrigin) return idle;
  const capacity = origins.reduce((sum, o) => sum + o.capacity, 0);
  const meanLoad = total / capacity;
  let worst = origins[0];
  for (const o of origins) if (worst === undefined || o.sessions / o.capacity > worst.sessions / worst.capacity) worst = o;
  if (worst === undefined || worst.sessions / worst.capacity <= meanLoad * settings.tolerance) return idle;
  // Sessions above its fair share; ending them lets P2C place them on emptier origins.
  const excess = Math.floor(worst.sessions - meanLoad * worst.capacity);
  const step = drainStep(settings.sessionsPerSecond, credit, elapsedSeconds, excess);
  return { origin: worst.id, toEnd: step.toEnd, credit: step.credit };
}
