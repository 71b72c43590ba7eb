/**
 * Wall-clock milliseconds with sub-millisecond resolution, aligned to `Date.now()`.
 *
 * The reference origin stamps events with `Date.now()` (whole ms, same machine clock), so
 * the client's receive time must be on the same clock; `performance.now()` adds the
 * resolution that `Date.now()` lacks. The offset is taken at a `Date.now()` tick edge.
 */

const offset = calibrate();

export function epochMs(): number {
  return performance.timeOrigin + performance.now() + offset;
}

/** Monotonic ms for durations (never jumps with the wall clock). */
export function monoMs(): number {
  return performance.now();
}

function calibrate(): number {
  const start = Date.now();
  let now = start;
  // A Date.now() tick comes within ~1 ms; the guard bounds the spin on a clock that stalls.
  for (let spins = 0; now === start && spins < 10_000_000; spins++) now = Date.now();
  return now - (performance.timeOrigin + performance.now());
}
