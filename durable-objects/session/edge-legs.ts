/**
 * The session object's side of relay mode `edge`: it admits each long-lived leg the edge
 * will pump (recorded in SQLite with the isolate that pumps it), hears when one closes or
 * is lost, and ends them all — through each isolate's hub — when the session ends.
 * Nothing here stays in memory between requests, so the object can hibernate.
 */
import type { EndSignal } from "../../protocols/adapter.ts";
import { errorMessage, log } from "../../observability/log.ts";
import { hubStub } from "../hub/stub.ts";
import { LegTable, type Leg, type LegKind } from "./legs.ts";
import type { SessionStore } from "./store.ts";

export class EdgeLegs {
  readonly #table: LegTable;
  /** The session's store as it is now (a forgotten session's store is a new, empty one). */
  readonly #store: () => SessionStore;

  constructor(sql: SqlStorage, store: () => SessionStore) {
    this.#table = new LegTable(sql, () => store().written);
    this.#store = store;
  }

  get webSockets(): number {
    return this.#table.count("websocket");
  }

  /** Open HTTP legs: streams and waiting long-polls alike. */
  get streams(): number {
    return this.#table.count("stream", "poll");
  }

  all(): Leg[] {
    return this.#table.all();
  }

  /** Records a new leg that `isolate` is about to pump; returns it (its id names it everywhere). */
  admit(kind: LegKind, isolate: string, id: string = crypto.randomUUID()): Leg {
    const leg: Leg = { id, kind, isolate, openedAt: Date.now() };
    this.#table.add(leg);
    // A long-poll comes and goes every few seconds: an event each time would be most of
    // the log (and two billed row writes a poll). The legs table still has it while open.
    if (kind !== "poll") this.#store().record(`${kind}_open`, { leg: id, isolate });
    return leg;
  }

  /** The pumping isolate says the leg ended (`side` closed first). */
  closed(id: string, kind: LegKind, side: string, code: number, reason: string): void {
    const leg = this.#table.remove(id);
    if ((leg?.kind ?? kind) === "poll") return;
    this.#store().record(`${leg?.kind ?? kind}_close`, { leg: id, side, code, reason });
  }

  /** The legs' isolate is gone (hub report, or unreachable at the end): they are over. */
  lost(ids: readonly string[], why: string): number {
    let n = 0;
    for (const id of ids) {
      const leg = this.#table.remove(id);
      if (leg === undefined) continue;
      n++;
      this.#store().record("leg_lost", { leg: id, kind: leg.kind, why });
    }
    return n;
  }

  /**
   * Ends every live leg with the protocol's signal, through the hubs of the isolates that
   * pump them. Legs a hub cannot reach are recorded lost. The table is emptied either way:
   * the session is over, and a late "closed" report only adds its line to the event log.
   */
  async endAll(sk: string, env: Env, signal: EndSignal): Promise<void> {
    const groups = new Map<string, string[]>();
    for (const leg of this.#table.all()) groups.set(leg.isolate, [...(groups.get(leg.isolate) ?? []), leg.id]);
    await Promise.all(
      [...groups].map(async ([isolate, ids]) => {
        let unreachable: readonly string[];
        try {
          unreachable = await hubStub(env, isolate).endLegs(sk, ids, signal);
        } catch (err) {
          log("hub_unreachable", { sk, isolate, message: errorMessage(err) }, "error");
          unreachable = ids;
        }
        this.lost(unreachable, "its edge isolate could not be reached to end it");
        for (const id of ids) this.#table.remove(id);
      }),
    );
  }
}
