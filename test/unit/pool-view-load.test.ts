/**
 * What placement counts as an origin's load (workers/edge/balance/pool-view.ts): without a
 * report from the origin, the edge's own count of its live sessions against the configured
 * capacity; with one, the two counts reconciled — sessions the origin no longer has do
 * not count (issue 16 F3).
 */
import { describe, expect, it } from "vitest";
import { liveSessions } from "../../workers/edge/balance/pool-view.ts";
import { pickOrigin, type Candidate } from "../../workers/edge/balance/pick.ts";

describe("an origin's load for placement", () => {
  it("is the edge's own count when the origin reports none", () => {
    expect(liveSessions({ sessions: 40, reportedSessions: null })).toBe(40);
  });

  it("follows the origin's count when it has fewer (clients gone, sessions expired there)", () => {
    expect(liveSessions({ sessions: 1002, reportedSessions: 0 })).toBe(0);
  });

  it("keeps the edge's count when the origin reports more (sessions the edge did not place)", () => {
    expect(liveSessions({ sessions: 5, reportedSessions: 9 })).toBe(5);
  });

  it("lets a full-by-the-registry origin take sessions once its report says they are gone", () => {
    const full: Candidate = { id: "a", weight: 1, sessions: liveSessions({ sessions: 1000, reportedSessions: null }), capacity: 1000, eligible: true };
    expect(pickOrigin([full])).toEqual({ ok: false, reason: "all_full" });
    const reconciled: Candidate = { ...full, sessions: liveSessions({ sessions: 1000, reportedSessions: 3 }) };
    expect(pickOrigin([reconciled])).toEqual({ ok: true, origin: "a" });
  });
});
