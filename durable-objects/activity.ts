/**
 * What a Durable Object costs, counted by the object itself and kept in its SQLite so
 * that the totals survive hibernation and eviction (the cost report reads them through
 * the admin API):
 * - `wakes`: times the constructor ran for an object that already had state (after
 *   hibernation or eviction);
 * - `activeMs`: wall-clock ms during which the object was billable: the union of the
 *   intervals in which an entry point was in flight (fetch, RPC, alarm, a hibernatable
 *   socket's message or close) or something pinned it (a relay it pumps itself);
 * - `requests`: entry points served (fetch, RPC, alarm);
 * - `webSocketMessages`: messages received on hibernatable sockets.
 *
 * Counts are written when a busy period ends (the last entry point or pin ends), in one
 * UPDATE of one row — but only the first busy period of each wake, and then at most once
 * every WRITE_INTERVAL_MS. A write per period was a SQLite commit per CR request: with one,
 * the edge spent 1.97 ms of CPU per CR against 1.47 ms without (floor-object 1.22–1.24 ms),
 * and its CR rate was 0.51× floor-object's against 0.93× without — even when the write was
 * made `allowUnconfirmed` (so the response did not wait for it): the commit's CPU was the
 * cost, not the wait (`npm run bench -- --rounds 3 --no-save --scenario cr-requests
 * --target floor-object --target edge`, hop CPU per request). What is not written yet is
 * in `totals()` all the same. What an object loses when it goes to sleep (hibernation,
 * eviction) is what it counted since its last write: at most the busy periods of the
 * last WRITE_INTERVAL_MS before it went idle — a few requests of a session whose object
 * wakes for a CR now and then (each wake's first period is written), and the last
 * seconds of a busy one.
 */

export interface Activity {
  readonly wakes: number;
  readonly activeMs: number;
  readonly requests: number;
  readonly webSocketMessages: number;
}

/** While an object stays awake, its counts are written at most this often (see above). */
export const WRITE_INTERVAL_MS = 5_000;

const TABLE = `CREATE TABLE IF NOT EXISTS activity (id INTEGER PRIMARY KEY CHECK (id = 1),
  wakes INTEGER NOT NULL, active_ms INTEGER NOT NULL, requests INTEGER NOT NULL, ws_messages INTEGER NOT NULL)`;

const FIRST_ROW = "INSERT OR IGNORE INTO activity (id, wakes, active_ms, requests, ws_messages) VALUES (1, 0, 0, 0, 0)";

/**
 * The meter's table and row, for an object that creates its whole schema in one batch
 * (sqlite-schema.ts createSchema); it then tells its meter with `schemaCreated()`.
 */
export const ACTIVITY_SCHEMA = `${TABLE}; ${FIRST_ROW}`;

type Counts = { wakes: number; active_ms: number; requests: number; ws_messages: number };

export class ActivityMeter {
  readonly #sql: SqlStorage;
  /** Whether the object may write: a session object writes nothing until its session exists. */
  readonly #writable: () => boolean;
  /** Counts made while the object could not write yet: they go in with its first write. */
  #unsaved: Counts = { wakes: 0, active_ms: 0, requests: 0, ws_messages: 0 };
  /** Entry points in flight plus pins. */
  #busy = 0;
  #busySince = 0;
  /** The table and its row exist (made once per instance, again after storage was wiped). */
  #ready = false;
  /** When this instance last wrote its counts; never yet, so a wake's first period is written. */
  #writtenAt = Number.NEGATIVE_INFINITY;
  readonly #now: () => number;

  constructor(sql: SqlStorage, writable: () => boolean = () => true, now: () => number = Date.now) {
    this.#sql = sql;
    this.#writable = writable;
    this.#now = now;
  }

  /** The object's storage was wiped (deleteAll): the totals start again from zero. */
  storageCleared(): void {
    this.#unsaved = { wakes: 0, active_ms: 0, requests: 0, ws_messages: 0 };
    this.#ready = false;
    this.#writtenAt = Number.NEGATIVE_INFINITY;
  }

  /** The object made the meter's table and row itself (ACTIVITY_SCHEMA). */
  schemaCreated(): void {
    this.#ready = true;
  }

  /** The constructor ran for an object that had state before: it slept and woke up. */
  woke(): void {
    this.#add("wakes", 1);
  }

  /** Runs one entry point, counted as a request (fetch, RPC, alarm) or a socket message. */
  async run<T>(kind: "request" | "message" | "close", fn: () => T | Promise<T>): Promise<T> {
    if (kind === "request") this.#add("requests", 1);
    else if (kind === "message") this.#add("ws_messages", 1);
    const release = this.pin();
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** Something that keeps the object awake without being a request (a relay it pumps); returns its release. */
  pin(): () => void {
    if (this.#busy++ === 0) this.#busySince = this.#now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.#busy > 0) return;
      const now = this.#now();
      this.#add("active_ms", Math.max(0, now - this.#busySince));
      if (now - this.#writtenAt >= WRITE_INTERVAL_MS) this.#flush(now);
    };
  }

  /**
   * Writes the counts now, in the caller's transaction, the busy period so far included:
   * for an entry point that commits anyway (a create), so that its end commits nothing more.
   */
  checkpoint(): void {
    const now = this.#now();
    if (this.#busy > 0) {
      this.#add("active_ms", Math.max(0, now - this.#busySince));
      this.#busySince = now;
    }
    this.#flush(now);
  }

  totals(): Activity {
    const row = this.#saved();
    const open = this.#busy > 0 ? this.#now() - this.#busySince : 0;
    const u = this.#unsaved;
    return {
      wakes: (row?.wakes ?? 0) + u.wakes,
      activeMs: (row?.active_ms ?? 0) + u.active_ms + open,
      requests: (row?.requests ?? 0) + u.requests,
      webSocketMessages: (row?.ws_messages ?? 0) + u.ws_messages,
    };
  }

  #saved(): Counts | undefined {
    if (!this.#writable()) return undefined;
    try {
      return this.#sql
        .exec<Counts>("SELECT wakes, active_ms, requests, ws_messages FROM activity WHERE id = 1")
        .toArray()[0];
    } catch {
      return undefined; // No table yet: nothing was saved.
    }
  }

  #add(column: keyof Counts, n: number): void {
    this.#unsaved[column] += n;
  }

  /** Writes what was counted since the last write (nothing before the object may write). */
  #flush(now: number): void {
    const u = this.#unsaved;
    if (!this.#writable() || u.wakes + u.active_ms + u.requests + u.ws_messages === 0) return;
    try {
      if (!this.#ready) {
        this.#sql.exec(TABLE);
        this.#sql.exec(FIRST_ROW);
        this.#ready = true;
      }
      this.#sql.exec(
        "UPDATE activity SET wakes = wakes + ?, active_ms = active_ms + ?, requests = requests + ?, ws_messages = ws_messages + ? WHERE id = 1",
        u.wakes,
        u.active_ms,
        u.requests,
        u.ws_messages,
      );
      this.#unsaved = { wakes: 0, active_ms: 0, requests: 0, ws_messages: 0 };
      this.#writtenAt = now;
    } catch {
      // Storage is being deleted (the record was forgotten): nothing left to count into.
      this.#ready = false;
    }
  }
}
