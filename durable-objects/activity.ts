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
 * Counts are written once per busy period — when the last entry point or pin ends — in one
 * UPDATE of one row, not per count: a CR request used to cost six SQL statements and two
 * row writes (billed) here, which held the CR rate to 0.3–0.4× of a bare object relay
 * (`npm run bench -- --rounds 1 --scenario cr-requests --target floor-object --target edge`). What
 * is not written yet is in `totals()` all the same; an object evicted in the middle of a
 * busy period (a crash) loses that period's counts.
 */

export interface Activity {
  readonly wakes: number;
  readonly activeMs: number;
  readonly requests: number;
  readonly webSocketMessages: number;
}

const TABLE = `CREATE TABLE IF NOT EXISTS activity (id INTEGER PRIMARY KEY CHECK (id = 1),
  wakes INTEGER NOT NULL, active_ms INTEGER NOT NULL, requests INTEGER NOT NULL, ws_messages INTEGER NOT NULL)`;

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

  constructor(sql: SqlStorage, writable: () => boolean = () => true) {
    this.#sql = sql;
    this.#writable = writable;
  }

  /** The object's storage was wiped (deleteAll): the totals start again from zero. */
  storageCleared(): void {
    this.#unsaved = { wakes: 0, active_ms: 0, requests: 0, ws_messages: 0 };
    this.#ready = false;
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
    if (this.#busy++ === 0) this.#busySince = Date.now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.#busy > 0) return;
      this.#add("active_ms", Math.max(0, Date.now() - this.#busySince));
      this.#flush();
    };
  }

  totals(): Activity {
    const row = this.#saved();
    const open = this.#busy > 0 ? Date.now() - this.#busySince : 0;
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
  #flush(): void {
    const u = this.#unsaved;
    if (!this.#writable() || u.wakes + u.active_ms + u.requests + u.ws_messages === 0) return;
    try {
      if (!this.#ready) {
        this.#sql.exec(TABLE);
        this.#sql.exec("INSERT OR IGNORE INTO activity (id, wakes, active_ms, requests, ws_messages) VALUES (1, 0, 0, 0, 0)");
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
    } catch {
      // Storage is being deleted (the record was forgotten): nothing left to count into.
      this.#ready = false;
    }
  }
}
