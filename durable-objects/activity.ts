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
 */

export interface Activity {
  readonly wakes: number;
  readonly activeMs: number;
  readonly requests: number;
  readonly webSocketMessages: number;
}

const TABLE = `CREATE TABLE IF NOT EXISTS activity (id INTEGER PRIMARY KEY CHECK (id = 1),
  wakes INTEGER NOT NULL, active_ms INTEGER NOT NULL, requests INTEGER NOT NULL, ws_messages INTEGER NOT NULL)`;

export class ActivityMeter {
  readonly #sql: SqlStorage;
  /** Entry points in flight plus pins. */
  #busy = 0;
  #busySince = 0;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    this.storageCleared();
  }

  /** The object's storage was wiped (deleteAll): the table comes back with zero totals. */
  storageCleared(): void {
    this.#sql.exec(TABLE);
    this.#sql.exec("INSERT OR IGNORE INTO activity (id, wakes, active_ms, requests, ws_messages) VALUES (1, 0, 0, 0, 0)");
  }

  /** The constructor ran for an object that had state before: it slept and woke up. */
  woke(): void {
    this.#sql.exec("UPDATE activity SET wakes = wakes + 1 WHERE id = 1");
  }

  /** Runs one entry point, counted as a request (fetch, RPC, alarm) or a socket message. */
  async run<T>(kind: "request" | "message" | "close", fn: () => T | Promise<T>): Promise<T> {
    const column = kind === "request" ? "requests" : kind === "message" ? "ws_messages" : undefined;
    if (column !== undefined) this.#sql.exec(`UPDATE activity SET ${column} = ${column} + 1 WHERE id = 1`);
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
      if (--this.#busy === 0) this.#addActive(Date.now() - this.#busySince);
    };
  }

  totals(): Activity {
    const row = this.#sql
      .exec<{ wakes: number; active_ms: number; requests: number; ws_messages: number }>("SELECT * FROM activity WHERE id = 1")
      .toArray()[0];
    const open = this.#busy > 0 ? Date.now() - this.#busySince : 0;
    return {
      wakes: row?.wakes ?? 0,
      activeMs: (row?.active_ms ?? 0) + open,
      requests: row?.requests ?? 0,
      webSocketMessages: row?.ws_messages ?? 0,
    };
  }

  #addActive(ms: number): void {
    try {
      this.#sql.exec("UPDATE activity SET active_ms = active_ms + ? WHERE id = 1", Math.max(0, ms));
    } catch {
      // Storage is being deleted (the record was forgotten): nothing left to count into.
    }
  }
}
