import { describe, expect, it } from "vitest";
import { pickOrigin, type Candidate } from "../../workers/edge/balance/pick.ts";

const origin = (id: string, over: Partial<Candidate> = {}): Candidate => ({
  id,
  weight: 1,
  sessions: 0,
  capacity: 100,
  eligible: true,
  ...over,
});

/** A seeded generator, so the distribution tests are deterministic. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function tally(candidates: Candidate[], rounds: number, place = true): Map<string, number> {
  const random = seeded(42);
  const counts = new Map<string, number>();
  let list = candidates;
  for (let i = 0; i < rounds; i++) {
    const r = pickOrigin(list, random);
    if (!r.ok) throw new Error(r.reason);
    counts.set(r.origin, (counts.get(r.origin) ?? 0) + 1);
    if (place) list = list.map((c) => (c.id === r.origin ? { ...c, sessions: c.sessions + 1 } : c));
  }
  return counts;
}

describe("origin choice", () => {
  it("never picks an unhealthy, draining/blocked (ineligible), weightless or full origin", () => {
    const list = [
      origin("down", { eligible: false }),
      origin("zero", { weight: 0 }),
      origin("full", { sessions: 100 }),
      origin("ok", { sessions: 99 }),
    ];
    const counts = tally(list, 200, false);
    expect([...counts.keys()]).toEqual(["ok"]);
  });

  it("says why when nothing can take a session", () => {
    expect(pickOrigin([origin("a", { eligible: false })])).toEqual({ ok: false, reason: "no_healthy_origin" });
    expect(pickOrigin([origin("a", { sessions: 100 })])).toEqual({ ok: false, reason: "all_full" });
    expect(pickOrigin([])).toEqual({ ok: false, reason: "no_healthy_origin" });
  });

  it("spreads sessions evenly across equal origins as they fill up", () => {
    const counts = tally([origin("a"), origin("b"), origin("c")], 90);
    for (const id of ["a", "b", "c"]) expect(counts.get(id)).toBeGreaterThanOrEqual(28);
  });

  it("sends new sessions to the emptier origin (a node that came back)", () => {
    const counts = tally([origin("busy", { sessions: 80, capacity: 200 }), origin("fresh", { capacity: 200 })], 60);
    expect(counts.get("fresh")).toBe(60);
  });

  it("gives each origin a share of sessions that follows its weight", () => {
    const counts = tally([origin("heavy", { weight: 3, capacity: 1000 }), origin("light", { weight: 1, capacity: 1000 })], 400);
    // Equilibrium is 300/100; P2C keeps within a session or two of it.
    expect(counts.get("heavy")).toBeGreaterThanOrEqual(295);
    expect(counts.get("heavy")).toBeLessThanOrEqual(305);
  });

  it("compares load relative to capacity", () => {
    // 50/100 is fuller than 60/1000.
    const counts = tally([origin("small", { sessions: 50 }), origin("big", { sessions: 60, capacity: 1000 })], 20, false);
    expect(counts.get("big")).toBe(20);
  });
});
