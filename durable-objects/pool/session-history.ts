/**
 * Sessions per origin over the last minutes, for the dashboard's chart: one point per
 * coordinator tick (every health interval) and per drain or rebalancing step, in memory.
 * Memory is enough: it is a picture of the recent past, and a coordinator that was evicted
 * had no ticks — nothing to draw — while it was gone.
 */

export interface HistoryPoint {
  readonly at: number;
  /** Sessions per origin id at that moment. */
  readonly sessions: Readonly<Record<string, number>>;
}

/** How far back the chart reaches. */
export const HISTORY_MS = 5 * 60 * 1000;
/** Points closer together than this replace the previous one (a tick and a drain step in one breath). */
const MIN_SPACING_MS = 250;

export class SessionHistory {
  #points: HistoryPoint[] = [];

  record(at: number, sessions: Readonly<Record<string, number>>): void {
    const last = this.#points.at(-1);
    if (last !== undefined && at - last.at < MIN_SPACING_MS) this.#points.pop();
    this.#points.push({ at, sessions: { ...sessions } });
    const oldest = at - HISTORY_MS;
    while ((this.#points[0]?.at ?? at) < oldest) this.#points.shift();
  }

  points(): HistoryPoint[] {
    return [...this.#points];
  }
}
