/**
 * A session's durable state in its Durable Object's SQLite storage: one record (the
 * session-to-origin mapping) and a bounded event log. The schema carries a version and
 * migrates forward, so a deployed object with old storage keeps working.
 */

import { createSchema, migrateSchema } from "../sqlite-schema.ts";
import { FETCH_TRANSPORT, transportFromWire, transportToWire, type TransportSettings } from "../../relay/transport/settings.ts";
import type { Limits } from "../../config/limits.ts";
import type { RelayMode } from "../../config/relay-mode.ts";
import { limitsFromWire } from "./route.ts";

export type SessionState = "active" | "ended";

export interface SessionRecord {
  readonly sk: string;
  readonly pool: string;
  readonly adapter: string;
  readonly originId: string;
  readonly originUrl: string;
  /** How the origin is reached (fetch, or tcp with PROXY settings), fixed at creation. */
  readonly originTransport: TransportSettings;
  readonly originSessionId: string | null;
  readonly state: SessionState;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly endedReason: string | null;
  /** How long the record and event log outlive the session's end (config/session-lifetime.ts). */
  readonly retentionMs: number;
  /** No connection and no CR for this long ends the session (`idle`); 0 = never. */
  readonly idleMs: number;
  /** Where long-lived legs run (config/relay-mode.ts), fixed at creation. */
  readonly relayMode: RelayMode;
  /** The pool's input limits at creation: the object never reads the edge's config. */
  readonly limits: Limits;
}

/**
 * What an event's detail may hold: flat JSON scalars, so it crosses RPC and storage
 * unchanged (a recursive JSON type defeats the RPC typings).
 */
export type EventDetail = { [key: string]: string | number | boolean | null };

export interface SessionEvent {
  readonly seq: number;
  readonly at: number;
  readonly kind: string;
  readonly detail: EventDetail;
}

/** Oldest events are dropped past this many, so a chatty session cannot grow storage. */
export const MAX_EVENTS = 200;

/**
 * How long a session's record outlives the session — its token's expiry, or its end if
 * the edge ended it sooner — for post-mortems through the admin API.
 */
export const RECORD_GRACE_MS = 10 * 60 * 1000;

/**
 * Retention of records written before sessions carried their own (schema v3 and older):
 * what the edge used to keep them for.
 */
const LEGACY_RETENTION_MS = RECORD_GRACE_MS;

/**
 * The session object's timers, all served by its one alarm: `end` ends the session
 * (maximum session duration), `idle` ends it when nothing of it is open and no CR came
 * in time, `forget` deletes its record and events (the retention after its end).
 */
export type DeadlineKind = "end" | "forget" | "idle";

export const MIGRATIONS: readonly string[] = [
  // v1
  `CREATE TABLE session (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     sk TEXT NOT NULL, pool TEXT NOT NULL, adapter TEXT NOT NULL,
     origin_id TEXT NOT NULL, origin_url TEXT NOT NULL, origin_session_id TEXT,
     state TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
     ended_reason TEXT);
   CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL,
     kind TEXT NOT NULL, detail TEXT NOT NULL);`,
  // v2: the origin's transport, as its wire JSON ('{}' = fetch, what every v1 session used).
  `ALTER TABLE session ADD COLUMN origin_transport TEXT NOT NULL DEFAULT '{}';`,
  // v3: deadlines for the one alarm. A v2 object's alarm was its record's cleanup.
  `CREATE TABLE deadlines (kind TEXT PRIMARY KEY, at INTEGER NOT NULL);
   INSERT INTO deadlines (kind, at) SELECT 'forget', expires_at + ${RECORD_GRACE_MS} FROM session;`,
  // v4: each session's own retention and idle time (config/session-lifetime.ts), fixed at creation.
  `ALTER TABLE session ADD COLUMN retention_ms INTEGER NOT NULL DEFAULT ${LEGACY_RETENTION_MS};
   ALTER TABLE session ADD COLUMN idle_ms INTEGER NOT NULL DEFAULT 0;`,
  // v5: relay mode and limits in the record (an older session was relayed by its object), the
  // legs the edge pumps for it (legs.ts), and the object's own activity (activity.ts).
  `ALTER TABLE session ADD COLUMN relay_mode TEXT NOT NULL DEFAULT 'object';
   ALTER TABLE session ADD COLUMN limits TEXT NOT NULL DEFAULT '{}';
   CREATE TABLE legs (id TEXT PRIMARY KEY, kind TEXT NOT NULL, isolate TEXT NOT NULL, opened_at INTEGER NOT NULL);`,
];

/** What MIGRATIONS build, for a new session object in one step (sqlite-schema.ts). */
export const CURRENT_SCHEMA = `CREATE TABLE session (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     sk TEXT NOT NULL, pool TEXT NOT NULL, adapter TEXT NOT NULL,
     origin_id TEXT NOT NULL, origin_url TEXT NOT NULL, origin_session_id TEXT,
     state TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
     ended_reason TEXT,
     origin_transport TEXT NOT NULL DEFAULT '{}',
     retention_ms INTEGER NOT NULL DEFAULT ${LEGACY_RETENTION_MS},
     idle_ms INTEGER NOT NULL DEFAULT 0,
     relay_mode TEXT NOT NULL DEFAULT 'object',
     limits TEXT NOT NULL DEFAULT '{}');
   CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL,
     kind TEXT NOT NULL, detail TEXT NOT NULL);
   CREATE TABLE deadlines (kind TEXT PRIMARY KEY, at INTEGER NOT NULL);
   CREATE TABLE legs (id TEXT PRIMARY KEY, kind TEXT NOT NULL, isolate TEXT NOT NULL, opened_at INTEGER NOT NULL);`;

/**
 * Storage is written only for a session that exists: the schema is created by the first
 * write (a created session's record), never by merely waking the object — an S request
 * the origin refused, an admin lookup of an unknown or forgotten key, a CR with a stale
 * token leave no database behind. Reads of an object without schema find nothing.
 */
export class SessionStore {
  readonly #sql: SqlStorage;
  /** Whether the schema exists; undefined until first asked (see the constructor). */
  #ready: boolean | undefined;

  /**
   * `written` is what the caller knows (false: storage was just wiped); otherwise the
   * store asks SQLite when first needed — and a create never asks (prepareForCreate). On a
   * new object's empty database a read as the first statement cost ~1.5 ms of CPU, as much
   * again as creating the whole schema, while a write as the first statement costs nothing
   * extra (`node tools/profile/cpu-profile.ts --workload create`: workerd busy 22.0 s for
   * 2,000 S requests with the read first, 18.3 s without it).
   */
  constructor(sql: SqlStorage, written?: boolean) {
    this.#sql = sql;
    this.#ready = written;
  }

  /** Whether this object has written anything (the schema exists). */
  get written(): boolean {
    if (this.#ready === undefined) {
      this.#ready = this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'meta'").one().n > 0;
      if (this.#ready) migrateSchema(this.#sql, MIGRATIONS, CURRENT_SCHEMA);
    }
    return this.#ready;
  }

  /**
   * A create's first write, once the origin has accepted the session: the schema is made
   * (or an old one migrated) before anything is read, so the database's first statement is
   * a write. `extra`: the schema of what else the object keeps in its database (its
   * activity), made in the same batch. True if the database was empty: nothing of a session
   * is stored, so there is nothing to read.
   */
  prepareForCreate(extra?: string): boolean {
    if (this.#ready !== true && createSchema(this.#sql, MIGRATIONS.length, CURRENT_SCHEMA, extra)) {
      this.#ready = true;
      return true;
    }
    this.#ensure();
    return false;
  }

  #ensure(): void {
    if (this.#ready === true) return;
    migrateSchema(this.#sql, MIGRATIONS, CURRENT_SCHEMA);
    this.#ready = true;
  }

  load(): SessionRecord | undefined {
    if (!this.written) return undefined;
    const row = this.#sql
      .exec<{
        sk: string;
        pool: string;
        adapter: string;
        origin_id: string;
        origin_url: string;
        origin_transport: string;
        origin_session_id: string | null;
        state: string;
        created_at: number;
        expires_at: number;
        ended_reason: string | null;
        retention_ms: number;
        idle_ms: number;
        relay_mode: string;
        limits: string;
      }>("SELECT * FROM session WHERE id = 1")
      .toArray()[0];
    if (row === undefined) return undefined;
    return {
      sk: row.sk,
      pool: row.pool,
      adapter: row.adapter,
      originId: row.origin_id,
      originUrl: row.origin_url,
      originTransport: transportFromStorage(row.origin_transport),
      originSessionId: row.origin_session_id,
      state: row.state === "ended" ? "ended" : "active",
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      endedReason: row.ended_reason,
      retentionMs: row.retention_ms,
      idleMs: row.idle_ms,
      relayMode: row.relay_mode === "edge" ? "edge" : "object",
      limits: limitsFromStorage(row.limits),
    };
  }

  save(r: SessionRecord): void {
    this.#ensure();
    this.#sql.exec(
      `INSERT OR REPLACE INTO session (id, sk, pool, adapter, origin_id, origin_url, origin_transport,
         origin_session_id, state, created_at, expires_at, ended_reason, retention_ms, idle_ms, relay_mode, limits)
         VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      r.sk,
      r.pool,
      r.adapter,
      r.originId,
      r.originUrl,
      JSON.stringify(transportToWire(r.originTransport)),
      r.originSessionId,
      r.state,
      r.createdAt,
      r.expiresAt,
      r.endedReason,
      r.retentionMs,
      r.idleMs,
      r.relayMode,
      JSON.stringify(r.limits),
    );
  }

  record(kind: string, detail: EventDetail = {}, at = Date.now()): void {
    this.#ensure();
    const { seq } = this.#sql
      .exec<{ seq: number }>("INSERT INTO events (at, kind, detail) VALUES (?, ?, ?) RETURNING seq", at, kind, JSON.stringify(detail))
      .one();
    // Trimming is a second statement, so it runs only once the log is past its bound.
    if (seq > MAX_EVENTS) this.#sql.exec("DELETE FROM events WHERE seq <= ?", seq - MAX_EVENTS);
  }

  setDeadline(kind: DeadlineKind, at: number): void {
    this.#ensure();
    this.#sql.exec("INSERT OR REPLACE INTO deadlines (kind, at) VALUES (?, ?)", kind, at);
  }

  clearDeadline(kind: DeadlineKind): void {
    if (!this.written) return;
    this.#sql.exec("DELETE FROM deadlines WHERE kind = ?", kind);
  }

  deadline(kind: DeadlineKind): number | undefined {
    if (!this.written) return undefined;
    return this.#sql.exec<{ at: number }>("SELECT at FROM deadlines WHERE kind = ?", kind).toArray()[0]?.at;
  }

  /** The earliest deadline: when the alarm must next run. */
  nextDeadline(): number | undefined {
    if (!this.written) return undefined;
    return this.#sql.exec<{ at: number | null }>("SELECT MIN(at) AS at FROM deadlines").one().at ?? undefined;
  }

  events(): SessionEvent[] {
    if (!this.written) return [];
    return this.#sql
      .exec<{ seq: number; at: number; kind: string; detail: string }>("SELECT * FROM events ORDER BY seq")
      .toArray()
      .map((e) => ({ seq: e.seq, at: e.at, kind: e.kind, detail: JSON.parse(e.detail) as EventDetail }));
  }
}

/**
 * Stored settings this code cannot read (written by a newer version) fall back to fetch:
 * the record stays usable for the admin API, and a PROXY-only origin refuses the
 * connection instead of being sent a header we cannot vouch for.
 */
function transportFromStorage(json: string): TransportSettings {
  try {
    const raw: unknown = JSON.parse(json);
    if (typeof raw !== "object" || raw === null) return FETCH_TRANSPORT;
    return transportFromWire(raw as Record<string, unknown>) ?? FETCH_TRANSPORT;
  } catch {
    return FETCH_TRANSPORT;
  }
}

function limitsFromStorage(json: string): Limits {
  try {
    const raw: unknown = JSON.parse(json);
    return limitsFromWire(typeof raw === "object" && raw !== null && Object.keys(raw).length > 0 ? raw : undefined);
  } catch {
    return limitsFromWire(undefined);
  }
}
