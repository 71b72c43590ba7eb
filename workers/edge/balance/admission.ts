/**
 * Admission control for reconnect storms (Lightstreamer's prestarted_max_queue): each
 * origin may be given at most `sessionsPerSecond` new sessions, with `burst` at once, from
 * this isolate (a token bucket per origin). When every healthy origin is out of tokens the
 * client is told to come back later, with a jittered Retry-After so the storm spreads out
 * instead of returning in lockstep.
 */

interface Bucket {
  tokens: number;
  at: number;
}

const buckets = new Map<string, Bucket>();

export interface AdmissionLimit {
  readonly sessionsPerSecond: number;
  readonly burst: number;
}

function refill(key: string, limit: AdmissionLimit, now: number): Bucket {
  const b = buckets.get(key) ?? { tokens: limit.burst, at: now };
  b.tokens = Math.min(limit.burst, b.tokens + ((now - b.at) / 1000) * limit.sessionsPerSecond);
  b.at = now;
  buckets.set(key, b);
  return b;
}

/** Whether `key` (pool/origin) may take a session now; no limit (rate 0) always may. */
export function hasToken(key: string, limit: AdmissionLimit, now: number): boolean {
  return limit.sessionsPerSecond <= 0 || refill(key, limit, now).tokens >= 1;
}

/** Spends a token for a session placed on `key`. */
export function takeToken(key: string, limit: AdmissionLimit, now: number): void {
  if (limit.sessionsPerSecond <= 0) return;
  refill(key, limit, now).tokens -= 1;
}

/** Seconds to ask a refused client to wait: 1–3 s, spread at random. */
export function retryAfterSeconds(random: () => number = Math.random): number {
  return 1 + Math.floor(random() * 3);
}

/** Forgets all buckets (tests). */
export function resetAdmission(): void {
  buckets.clear();
}
