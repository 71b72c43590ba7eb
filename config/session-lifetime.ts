/**
 * What is left of a session once it is over, and when a forgotten one is over
 * (POOLS.pools[i].settings.sessionLifetime):
 *
 * - `retentionSeconds` (default 24 h): an ended session keeps its record and event log this
 *   long, so an operator can still look it up after a client's complaint; then its object
 *   deletes all of its storage. 0 deletes it as soon as no connection of it is open.
 * - `idleSeconds` (default 5 min, 0 = never): a session with no open connection that made
 *   no CR request for this long is ended (reason `idle`) and stops counting as its origin's
 *   load. Clients that keep a session only by polling (Engine.IO long-polls within its
 *   25 s ping interval, TLCP rebinds) or by a stream stay well inside it; a client that
 *   went away without closing its session no longer holds a place on an origin for a day.
 */
import { ConfigError } from "./config-error.ts";

export interface SessionLifetime {
  readonly retentionSeconds: number;
  readonly idleSeconds: number;
}

export const DEFAULT_SESSION_LIFETIME: SessionLifetime = { retentionSeconds: 24 * 60 * 60, idleSeconds: 300 };

/** Longest retention: a month. Longer is an archive, which belongs in logs, not in session objects. */
const MAX_RETENTION_SECONDS = 31 * 24 * 60 * 60;

function seconds(raw: unknown, field: string, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  if (typeof raw !== "number" || !Number.isInteger(raw) || raw < 0 || raw > max) {
    throw new ConfigError(field, `must be an integer number of seconds in [0, ${max}]`);
  }
  return raw;
}

export function resolveSessionLifetime(raw: unknown, field: string): SessionLifetime {
  if (raw === undefined) return DEFAULT_SESSION_LIFETIME;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new ConfigError(field, "must be an object");
  const r = raw as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    if (key !== "retentionSeconds" && key !== "idleSeconds") {
      throw new ConfigError(`${field}.${key}`, "unknown setting (known: retentionSeconds, idleSeconds)");
    }
  }
  return {
    retentionSeconds: seconds(r.retentionSeconds, `${field}.retentionSeconds`, DEFAULT_SESSION_LIFETIME.retentionSeconds, MAX_RETENTION_SECONDS),
    idleSeconds: seconds(r.idleSeconds, `${field}.idleSeconds`, DEFAULT_SESSION_LIFETIME.idleSeconds, MAX_RETENTION_SECONDS),
  };
}
