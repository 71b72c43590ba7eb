/**
 * The pool coordinator's durable state (SQLite): each origin's configuration, operator
 * state, health counters and load, plus the pool's settings and progress counters. The
 * static POOLS configuration seeds it; origins added, changed or removed through the admin
 * API persist here without a redeploy. The schema carries a version and migrates forward.
 */
import type { OriginConfig, PoolConfig } from "../../config/config.ts";
import type { PoolSettings } from "../../config/pool-settings.ts";
import type { HealthReport } from "./checks/report.ts";
import type { AdminState, ErrorSource, OriginSnapshot, PoolSnapshot } from "./snapshot.ts";

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE origins (
     id TEXT PRIMARY KEY, config TEXT NOT NULL, source TEXT NOT NULL,
     admin_state TEXT NOT NULL DEFAULT 'active', drain_rate REAL NOT NULL DEFAULT 0,
     drained INTEGER NOT NULL DEFAULT 0, drain_credit REAL NOT NULL DEFAULT 0,
     healthy INTEGER NOT NULL DEFAULT 0, good INTEGER NOT NULL DEFAULT 0, bad INTEGER NOT NULL DEFAULT 0,
     reported_state TEXT NOT NULL DEFAULT 'unknown', sessions INTEGER NOT NULL DEFAULT 0,
     reported_capacity INTEGER, joined_at INTEGER NOT NULL DEFAULT 0, checked_at INTEGER NOT NULL DEFAULT 0,
     last_error TEXT, removed INTEGER NOT NULL DEFAULT 0);
   CREATE TABLE pool (id INTEGER PRIMARY KEY CHECK (id = 1), name TEXT NOT NULL, config_hash TEXT NOT NULL,
     settings TEXT NOT NULL, rebalanced INTEGER NOT NULL DEFAULT 0, rebalance_credit REAL NOT NULL DEFAULT 0,
     last_tick INTEGER NOT NULL DEFAULT 0, last_read INTEGER NOT NULL DEFAULT 0);`,
  // v2: which run of the origin process answered (health `instance`), when it last did,
  // and the sessions a restart lost: those registered before `lost_before` are ended.
  `ALTER TABLE origins ADD COLUMN instance TEXT;
   ALTER TABLE origins ADD COLUMN instance_seen_at INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE origins ADD COLUMN lost_before INTEGER NOT NULL DEFAULT 0;`,
  // v3: what the origin itself reports of its sessions (NULL: no report), where the last
  // error came from (an active check or real traffic), and what the last good check was.
  `ALTER TABLE origins ADD COLUMN reported_sessions INTEGER;
   ALTER TABLE origins ADD COLUMN error_source TEXT;
   ALTER TABLE origins ADD COLUMN check_note TEXT;`,
];

type OriginRow = {
  id: string;
  config: string;
  source: string;
  admin_state: string;
  drain_rate: number;
  drained: number;
  drain_credit: number;
  healthy: number;
  good: number;
  bad: number;
  reported_state: string;
  sessions: number;
  reported_capacity: number | null;
  joined_at: number;
  checked_at: number;
  last_error: string | null;
  removed: number;
  instance: string | null;
  instance_seen_at: number;
  lost_before: number;
  reported_sessions: number | null;
  error_source: string | null;
  check_note: string | null;
};

type PoolRow = {
  name: string;
  config_hash: string;
  settings: string;
  rebalanced: number;
  rebalance_credit: number;
  last_tick: number;
  last_read: number;
};

export interface OriginState extends OriginSnapshot {
  readonly drainCredit: number;
  readonly good: number;
  readonly bad: number;
  /** Sessions registered before this time died with an earlier run of the origin (0: none). */
  readonly lostBefore: number;
}

const ADMIN_STATES: readonly AdminState[] = ["active", "draining", "blocked", "maintenance"];

export class OriginTable {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    this.#sql.exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    const row = this.#sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'schema_version'").toArray()[0];
    let version = row === undefined ? 0 : Number(row.value);
    for (; version < MIGRATIONS.length; version++) {
      const step = MIGRATIONS[version];
      if (step !== undefined) this.#sql.exec(step);
    }
    this.#sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", String(version));
  }

  /**
   * Brings the table in line with the deployed configuration when it changed: its origins
   * are upserted (keeping their operator state and health), origins it dropped go, and
   * origins added through the admin API stay. Cheap when nothing changed.
   */
  sync(pool: PoolConfig, hash: string): void {
    const current = this.#pool();
    if (current?.config_hash === hash) return;
    const now = Date.now();
    const ids = new Set(pool.origins.map((o) => o.id));
    // The pool's first origins did not "join" anything: no slow start, no rebalancing for
    // them. An origin a later deployment adds did join.
    const joinedAt = current === undefined ? 0 : now;
    for (const origin of pool.origins) {
      this.#sql.exec(
        `INSERT INTO origins (id, config, source, joined_at) VALUES (?, ?, 'config', ?)
         ON CONFLICT(id) DO UPDATE SET config = excluded.config WHERE removed = 0`,
        origin.id,
        JSON.stringify(origin),
        joinedAt,
      );
    }
    for (const row of this.#rows()) if (row.source === "config" && !ids.has(row.id)) this.delete(row.id);
    this.#sql.exec(
      `INSERT INTO pool (id, name, config_hash, settings) VALUES (1, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET name = excluded.name, config_hash = excluded.config_hash, settings = excluded.settings`,
      pool.name,
      hash,
      JSON.stringify(pool.settings),
    );
  }

  settings(): PoolSettings | undefined {
    const row = this.#pool();
    return row === undefined ? undefined : (JSON.parse(row.settings) as PoolSettings);
  }

  origins(): OriginState[] {
    return this.#rows()
      .filter((r) => r.removed === 0)
      .map(toState);
  }

  origin(id: string): OriginState | undefined {
    return this.origins().find((o) => o.id === id);
  }

  snapshot(now: number): PoolSnapshot | undefined {
    const row = this.#pool();
    if (row === undefined) return undefined;
    return {
      pool: row.name,
      takenAt: now,
      settings: JSON.parse(row.settings) as PoolSettings,
      origins: this.origins().map(({ drainCredit: _c, good: _g, bad: _b, ...snapshot }) => snapshot),
      rebalanced: row.rebalanced,
    };
  }

  /** An origin added through the admin API (config already validated by the caller). */
  add(config: OriginConfig): void {
    this.#sql.exec(
      `INSERT INTO origins (id, config, source, joined_at) VALUES (?, ?, 'admin', ?)
       ON CONFLICT(id) DO UPDATE SET config = excluded.config, removed = 0, admin_state = 'active',
         drain_rate = 0, drained = 0, healthy = 0, good = 0, bad = 0, joined_at = excluded.joined_at`,
      config.id,
      JSON.stringify(config),
      Date.now(),
    );
  }

  updateConfig(config: OriginConfig): void {
    this.#sql.exec("UPDATE origins SET config = ? WHERE id = ?", JSON.stringify(config), config.id);
  }

  /** Removed origins keep a tombstone, so the deployed configuration does not bring them back. */
  remove(id: string): void {
    this.#sql.exec("UPDATE origins SET removed = 1 WHERE id = ?", id);
  }

  delete(id: string): void {
    this.#sql.exec("DELETE FROM origins WHERE id = ?", id);
  }

  setAdminState(id: string, state: AdminState, rate: number): void {
    const draining = state === "draining" || state === "maintenance";
    // An origin back from drain/block/maintenance rejoins the pool: slow start and the
    // rebalancing window start again, as for a node that came back.
    const rejoins = state === "active" && this.origin(id)?.adminState !== "active";
    this.#sql.exec(
      `UPDATE origins SET admin_state = ?, drain_rate = ?, drained = CASE WHEN ? THEN 0 ELSE drained END,
         drain_credit = 0, joined_at = CASE WHEN ? THEN ? ELSE joined_at END WHERE id = ?`,
      state,
      draining ? rate : 0,
      draining ? 1 : 0,
      rejoins ? 1 : 0,
      Date.now(),
      id,
    );
  }

  /** Records a health check's outcome; rise/fall counters decide the health flag. */
  recordCheck(
    id: string,
    result: HealthReport,
    rise: number,
    fall: number,
    now: number,
  ): void {
    const o = this.origin(id);
    if (o === undefined) return;
    if (result.ok) {
      const good = o.good + 1;
      // `rise` guards recovery from failure; an origin never checked before is trusted at once,
      // so a new pool does not refuse its first sessions.
      const healthy = o.healthy || good >= rise || o.checkedAt === 0;
      const row = this.#row(id);
      // Another run of the origin answers: the sessions the old run held are gone with it.
      // Those registered before the old run was last seen alive surely lived there; a
      // session registered after that may belong to the new run, so it is left alone.
      const restarted = result.instance !== undefined && row?.instance != null && row.instance !== result.instance;
      if (result.instance !== undefined) {
        this.#sql.exec(
          `UPDATE origins SET instance = ?, instance_seen_at = ?, lost_before = CASE WHEN ? THEN MAX(lost_before, instance_seen_at) ELSE lost_before END WHERE id = ?`,
          result.instance,
          now,
          restarted ? 1 : 0,
          id,
        );
      }
      this.#sql.exec(
        `UPDATE origins SET good = ?, bad = 0, healthy = ?, reported_state = ?, reported_sessions = ?,
           reported_capacity = ?, checked_at = ?, last_error = CASE WHEN ? THEN last_error ELSE NULL END,
           error_source = CASE WHEN ? THEN error_source ELSE NULL END, check_note = ?,
           joined_at = CASE WHEN ? THEN ? ELSE joined_at END WHERE id = ?`,
        good,
        healthy ? 1 : 0,
        result.state,
        result.sessions ?? null,
        result.capacity ?? null,
        now,
        // While it is still rising back, the pool view keeps saying why it went down.
        healthy ? 0 : 1,
        healthy ? 0 : 1,
        result.note ?? null,
        // Recovering (unhealthy → healthy after having been checked) or a restart seen
        // between two checks restarts slow start and opens the rebalancing window; the very
        // first good check is no recovery.
        (!o.healthy && healthy && o.checkedAt !== 0) || restarted ? 1 : 0,
        now,
        id,
      );
    } else {
      this.markFailed(id, result.error, fall, now);
    }
  }

  /** A failed check or a failed relay: after `fall` in a row the origin is unhealthy. */
  markFailed(id: string, error: string, fall: number, now: number, source: ErrorSource = "check"): void {
    const o = this.origin(id);
    if (o === undefined) return;
    const bad = o.bad + 1;
    this.#sql.exec(
      "UPDATE origins SET bad = ?, good = 0, healthy = ?, checked_at = ?, last_error = ?, error_source = ? WHERE id = ?",
      bad,
      o.healthy && bad < fall ? 1 : 0,
      now,
      error,
      source,
      id,
    );
  }

  setDrainProgress(id: string, drained: number, credit: number): void {
    this.#sql.exec("UPDATE origins SET drained = ?, drain_credit = ? WHERE id = ?", drained, credit, id);
  }

  /** Every session a restart lost has been ended. */
  clearLost(id: string, lostBefore: number): void {
    this.#sql.exec("UPDATE origins SET lost_before = 0 WHERE id = ? AND lost_before = ?", id, lostBefore);
  }

  setSessions(id: string, sessions: number): void {
    this.#sql.exec("UPDATE origins SET sessions = ? WHERE id = ?", sessions, id);
  }

  rebalanceState(): { rebalanced: number; credit: number; lastTick: number; lastRead: number } {
    const row = this.#pool();
    return { rebalanced: row?.rebalanced ?? 0, credit: row?.rebalance_credit ?? 0, lastTick: row?.last_tick ?? 0, lastRead: row?.last_read ?? 0 };
  }

  setTick(now: number, rebalanced: number, credit: number): void {
    this.#sql.exec("UPDATE pool SET last_tick = ?, rebalanced = ?, rebalance_credit = ? WHERE id = 1", now, rebalanced, credit);
  }

  noteRead(now: number): void {
    this.#sql.exec("UPDATE pool SET last_read = ? WHERE id = 1", now);
  }

  #rows(): OriginRow[] {
    return this.#sql.exec<OriginRow>("SELECT * FROM origins ORDER BY id").toArray();
  }

  #row(id: string): OriginRow | undefined {
    return this.#sql.exec<OriginRow>("SELECT * FROM origins WHERE id = ?", id).toArray()[0];
  }

  #pool(): PoolRow | undefined {
    return this.#sql.exec<PoolRow>("SELECT * FROM pool WHERE id = 1").toArray()[0];
  }
}

function toState(r: OriginRow): OriginState {
  return {
    id: r.id,
    config: JSON.parse(r.config) as OriginConfig,
    adminState: ADMIN_STATES.includes(r.admin_state as AdminState) ? (r.admin_state as AdminState) : "active",
    drainRate: r.drain_rate,
    drained: r.drained,
    drainCredit: r.drain_credit,
    healthy: r.healthy === 1,
    good: r.good,
    bad: r.bad,
    lostBefore: r.lost_before,
    reportedState: r.reported_state === "active" || r.reported_state === "draining" || r.reported_state === "blocked" ? r.reported_state : "unknown",
    sessions: r.sessions,
    reportedCapacity: r.reported_capacity,
    reportedSessions: r.reported_sessions,
    joinedAt: r.joined_at,
    checkedAt: r.checked_at,
    lastError: r.last_error,
    errorSource: r.error_source === "check" || r.error_source === "traffic" ? r.error_source : null,
    checkNote: r.check_note,
  };
}
