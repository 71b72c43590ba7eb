import { describe, expect, it } from "vitest";
import { MAX_TICK_SECONDS, drainStep, rebalanceStep } from "../../durable-objects/pool/moves.ts";

const REBALANCE = { tolerance: 1.15, sessionsPerSecond: 5, minSessionsPerOrigin: 5 };

describe("drain rate", () => {
  it("ends rate × elapsed sessions, carrying fractions across ticks", () => {
    let credit = 0;
    let ended = 0;
    // 10 sessions/s over 3 s in ticks of 0.3 s: exactly 30.
    for (let i = 0; i < 10; i++) {
      const step = drainStep(10, credit, 0.3, 1000);
      ended += step.toEnd;
      credit = step.credit;
    }
    expect(ended).toBe(30);
  });

  it("never ends more than the origin holds, and saves no credit beyond it", () => {
    expect(drainStep(100, 0, 1, 7)).toEqual({ toEnd: 7, credit: 0 });
  });

  it("does not burst after a pause", () => {
    expect(drainStep(10, 0, 60, 1000).toEnd).toBe(10 * MAX_TICK_SECONDS);
  });
});

describe("rebalancing", () => {
  it("moves sessions off the most loaded origin while the spread exceeds the tolerance", () => {
    const step = rebalanceStep(
      [
        { id: "o1", sessions: 30, capacity: 100 },
        { id: "o2", sessions: 30, capacity: 100 },
        { id: "o3", sessions: 0, capacity: 100 },
      ],
      REBALANCE,
      0,
      1,
    );
    expect(step).toEqual({ origin: "o1", toEnd: 5, credit: 0 });
  });

  it("ends no more than the excess over the fair share", () => {
    const step = rebalanceStep(
      [
        { id: "a", sessions: 12, capacity: 100 },
        { id: "b", sessions: 8, capacity: 100 },
      ],
      { ...REBALANCE, sessionsPerSecond: 100 },
      0,
      1,
    );
    // mean 10; a holds 2 above its share.
    expect(step).toEqual({ origin: "a", toEnd: 2, credit: 0 });
  });

  it("stops within the tolerance, below the minimum, or with one origin", () => {
    const balanced = [
      { id: "a", sessions: 21, capacity: 100 },
      { id: "b", sessions: 19, capacity: 100 },
    ];
    expect(rebalanceStep(balanced, REBALANCE, 3, 1).origin).toBeUndefined();
    expect(rebalanceStep([{ id: "a", sessions: 4, capacity: 100 }, { id: "b", sessions: 0, capacity: 100 }], REBALANCE, 0, 1).origin).toBeUndefined();
    expect(rebalanceStep([{ id: "a", sessions: 90, capacity: 100 }], REBALANCE, 0, 1).origin).toBeUndefined();
  });

  it("compares load relative to capacity", () => {
    const step = rebalanceStep(
      [
        { id: "small", sessions: 20, capacity: 50 },
        { id: "big", sessions: 40, capacity: 200 },
      ],
      REBALANCE,
      0,
      1,
    );
    expect(step.origin).toBe("small");
  });
});
