/**
 * What the pool coordinator tells edge isolates: each origin's configuration, health,
 * operator state and load, stamped with when it was taken. Isolates cache it for at most
 * a couple of seconds, so placement never waits on the coordinator.
 */
import type { OriginConfig } from "../../config/config.ts";
import type { PoolSettings } from "../../config/pool-settings.ts";

/** Where an origin's last error came from: an active check, or real traffic (passive health). */
export type ErrorSource = "check" | "traffic";

/** What the operator asked of an origin. Only `active` origins take new sessions. */
export type AdminState = "active" | "draining" | "blocked" | "maintenance";

export interface OriginSnapshot {
  readonly id: string;
  /** The origin's configuration as in POOLS (so runtime-added origins need no redeploy). */
  readonly config: OriginConfig;
  readonly adminState: AdminState;
  /** Drain/maintenance rate in sessions per second (0 when not draining). */
  readonly drainRate: number;
  /** Sessions ended so far by the current drain. */
  readonly drained: number;
  readonly healthy: boolean;
  /** What the origin itself reports (active/draining/blocked), or unknown before a check. */
  readonly reportedState: "active" | "draining" | "blocked" | "unknown";
  /** Live sessions the edge placed there (the session registry's count). */
  readonly sessions: number;
  /** Sessions the origin itself reports (push-edge's JSON /health), or null without a report. */
  readonly reportedSessions: number | null;
  /** A capacity the origin reports (smaller than the configured one wins). */
  readonly reportedCapacity: number | null;
  /** When the origin last joined or recovered (slow start runs from here). */
  readonly joinedAt: number;
  readonly checkedAt: number;
  /** Why the origin is (or last was) down, in words an operator can act on. */
  readonly lastError: string | null;
  readonly errorSource: ErrorSource | null;
  /** What the last good check found (e.g. "TCP connect accepted; no push-edge JSON report at /health"). */
  readonly checkNote: string | null;
}

export interface PoolSnapshot {
  readonly pool: string;
  readonly takenAt: number;
  readonly settings: PoolSettings;
  readonly origins: readonly OriginSnapshot[];
  /** Sessions ended to rebalance the pool so far. */
  readonly rebalanced: number;
}
