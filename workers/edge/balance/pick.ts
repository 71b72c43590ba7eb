/**
 * Origin choice for S requests: weighted power-of-two-choices on load.
 *
 * Two candidates are drawn at random in proportion to their weight, and the one with the
 * lower weighted load wins: (sessions + 1) / (capacity x weight), i.e. its load once it
 * takes this session, scaled by weight — so at equilibrium an origin's share of sessions
 * follows weight x capacity, and a twice-weighted origin of equal capacity holds twice
 * the sessions. P2C keeps the fleet even without every edge
 * isolate agreeing on one exact least-loaded origin — a herd of isolates chasing the same
 * "least loaded" node is exactly what P2C avoids.
 */

export interface Candidate {
  readonly id: string;
  readonly weight: number;
  /** Sessions the origin holds as far as the edge knows (reported + placed since). */
  readonly sessions: number;
  readonly capacity: number;
  /** Only healthy, active origins may take new sessions. */
  readonly eligible: boolean;
}

export type PickResult =
  | { readonly ok: true; readonly origin: string }
  | { readonly ok: false; readonly reason: "no_healthy_origin" | "all_full" };

/** Load as a fraction of capacity. */
export function loadOf(c: Candidate): number {
  return c.sessions / c.capacity;
}

/** What P2C compares: the load after placing one more session, divided by weight. */
function score(c: Candidate): number {
  return (c.sessions + 1) / (c.capacity * c.weight);
}

/**
 * Picks an origin. `random` returns [0, 1) and is injectable so tests are deterministic.
 * Never returns an origin that is ineligible, weightless or at capacity.
 */
export function pickOrigin(candidates: readonly Candidate[], random: () => number = Math.random): PickResult {
  const live = candidates.filter((c) => c.eligible && c.weight > 0);
  if (live.length === 0) return { ok: false, reason: "no_healthy_origin" };
  const open = live.filter((c) => c.sessions < c.capacity);
  if (open.length === 0) return { ok: false, reason: "all_full" };
  const first = drawWeighted(open, random);
  if (open.length === 1) return { ok: true, origin: first.id };
  const rest = open.filter((c) => c !== first);
  const second = drawWeighted(rest, random);
  const a = score(first);
  const b = score(second);
  if (a === b) return { ok: true, origin: (random() < 0.5 ? first : second).id };
  return { ok: true, origin: (a < b ? first : second).id };
}

function drawWeighted(list: readonly Candidate[], random: () => number): Candidate {
  const total = list.reduce((sum, c) => sum + c.weight, 0);
  let point = random() * total;
  for (const c of list) {
    point -= c.weight;
    if (point < 0) return c;
  }
  // Floating-point remainder: the last candidate owns the top of the range.
  const last = list[list.length - 1];
  if (last === undefined) throw new TypeError("drawWeighted needs a non-empty list");
  return last;
}
