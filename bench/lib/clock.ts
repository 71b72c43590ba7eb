/**
 * Wall-clock milliseconds with sub-millisecond resolution, aligned to `Date.now()`.
 *
 * The reference origin stamps events with `Date.now()` (whole ms, same machine clock), so
 * the client's receive time must be on the same clock; `performance.now()` adds the
 * resolution that `Date.now()` lacks. The offset between the two is measured at
 * `Date.now()` tick edges; call `calibrate()` again right before a measurement, since the
 * wall clock may be slewed against the monotonic one.
 */

let offset = 0;
calibrate();

export function epochMs(): number {
  return performance.timeOrigin + performance.now() + offset;
}

/** Monotonic ms for durations (never jumps with the wall clock). */
export function monoMs(): number {
  return performance.now();
}

/** Re-measures the wall-clock offset (spins for up to ~5 ms). */
export function calibrate(): void {
  // The first performance.now() call initialises lazily (over 1 ms here); keep that out.
  performance.now();
  // Every estimate errs low (the read lands a little after the tick), so keep the highest.
  let best = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < 5; i++) best = Math.max(best, offsetAtTick());
  offset = best;
}

function offsetAtTick(): number {
  const start = Date.now();
  let now = start;
  // A Date.now() tick comes within ~1 ms; the guard bounds the spin on a clock that stalls.
  for (let spins = 0; now === start && spins < 10_000_000; spins++) now = Date.now();
  return now - (performance.timeOrigin + performance.now());
}
