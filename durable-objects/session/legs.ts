/**
 * The long-lived legs of a session that the edge pumps (relay mode `edge`): each one
 * admitted by the session object and kept in its SQLite, with the isolate that pumps it,
 * so that the object can end them through that isolate's hub (durable-objects/hub/) and
 * count them after hibernation. A leg leaves the table when its isolate reports it closed
 * or the hub reports it lost.
 */

/** `poll`: a long-poll the edge sends itself — a stream that comes back whole. */
export type LegKind = "websocket" | "stream" | "poll";

export interface Leg {
  readonly id: string;
  readonly kind: LegKind;
  readonly isolate: string;
  readonly openedAt: number;
}

export class LegTable {
  readonly #sql: SqlStorage;
  readonly #written: () => boolean;

  /**
   * The table itself is created by the session store's migrations (store.ts v5), with the
   * session's record: an object that never held a session has no table, and no legs.
   */
  constructor(sql: SqlStorage, written: () => boolean) {
    this.#sql = sql;
    this.#written = written;
  }

  add(leg: Leg): void {
    this.#sql.exec("INSERT OR REPLACE INTO legs (id, kind, isolate, opened_at) VALUES (?, ?, ?, ?)", leg.id, leg.kind, leg.isolate, leg.openedAt);
  }

  /** Removes a leg; false if it was not (or no longer) there. */
  remove(id: string): Leg | undefined {
    if (!this.#written()) return undefined;
    const row = this.#sql
      .exec<{ id: string; kind: string; isolate: string; opened_at: number }>("DELETE FROM legs WHERE id = ? RETURNING *", id)
      .toArray()[0];
    return row === undefined ? undefined : fromRow(row);
  }

  all(): Leg[] {
    if (!this.#written()) return [];
    return this.#sql.exec<{ id: string; kind: string; isolate: string; opened_at: number }>("SELECT * FROM legs ORDER BY opened_at").toArray().map(fromRow);
  }

  count(...kinds: LegKind[]): number {
    if (!this.#written()) return 0;
    const marks = kinds.map(() => "?").join(", ");
    return this.#sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM legs WHERE kind IN (${marks})`, ...kinds).one().n;
  }

  /** Live legs grouped by the isolate that pumps them. */
  byIsolate(): Map<string, Leg[]> {
    const out = new Map<string, Leg[]>();
    for (const leg of this.all()) out.set(leg.isolate, [...(out.get(leg.isolate) ?? []), leg]);
    return out;
  }
}

function fromRow(row: { id: string; kind: string; isolate: string; opened_at: number }): Leg {
  const kind: LegKind = row.kind === "stream" || row.kind === "poll" ? row.kind : "websocket";
  return { id: row.id, kind, isolate: row.isolate, openedAt: row.opened_at };
}
