/**
 * The edge isolate's passive health (workers/edge/balance/passive-health.ts): which answers
 * take an origin out of placement, and what goes to the coordinator.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { PoolCoordinator } from "../../durable-objects/pool/coordinator.ts";
import { resolveConfig } from "../../config/config.ts";
import { FIVE_XX_THRESHOLD, FIVE_XX_WINDOW_MS, originAnswered, originUnreachable, resetPassiveHealth, type PassiveContext } from "../../workers/edge/balance/passive-health.ts";
import { PoolView } from "../../workers/edge/balance/pool-view.ts";

const POOL = resolveConfig({ POOLS: JSON.stringify({ pools: [{ name: "p", origins: [{ id: "a", url: "http://127.0.0.1:1" }] }] }) }).pools[0];

/** A view that records markDown, and a coordinator that records reports. */
function context(): { ctx: PassiveContext; down: string[]; reports: Array<[string, string, string | undefined]> } {
  if (POOL === undefined) throw new Error("no pool");
  const down: string[] = [];
  const reports: Array<[string, string, string | undefined]> = [];
  const view = new PoolView(POOL);
  view.markDown = (id, reason) => down.push(`${id}:${reason}`);
  const coordinator = {
    reportFailure: async (id: string, kind: string, detail?: string) => {
      reports.push([id, kind, detail]);
    },
  } as unknown as DurableObjectStub<PoolCoordinator>;
  return { ctx: { view, coordinator: () => coordinator, waitUntil: () => undefined }, down, reports };
}

beforeEach(() => resetPassiveHealth());

describe("passive health", () => {
  it("takes an unreachable origin out at once and reports it", () => {
    const { ctx, down, reports } = context();
    originUnreachable(ctx, "a");
    expect(down).toEqual(["a:origin_unreachable"]);
    expect(reports).toEqual([["a", "origin_unreachable", undefined]]);
  });

  it(`takes an origin out after ${FIVE_XX_THRESHOLD} answers 5xx in a row, not before`, () => {
    const { ctx, down, reports } = context();
    for (let i = 1; i < FIVE_XX_THRESHOLD; i++) originAnswered(ctx, "a", 502, 1_000 + i);
    expect(down).toEqual([]);
    originAnswered(ctx, "a", 500, 3_000);
    expect(down).toEqual(["a:http_5xx"]);
    expect(reports).toEqual([["a", "http_5xx", `${FIVE_XX_THRESHOLD} in a row within 2 s, the last 500`]]);
  });

  it("starts over after a good answer, a 4xx, or a run older than the window", () => {
    const { ctx, down } = context();
    originAnswered(ctx, "a", 500, 0);
    originAnswered(ctx, "a", 500, 1);
    originAnswered(ctx, "a", 404, 2);
    originAnswered(ctx, "a", 500, 3);
    originAnswered(ctx, "a", 500, 4);
    originAnswered(ctx, "a", 200, 5);
    originAnswered(ctx, "a", 503, 6);
    originAnswered(ctx, "a", 503, 7);
    originAnswered(ctx, "a", 503, 8 + FIVE_XX_WINDOW_MS);
    expect(down).toEqual([]);
  });
});
