/**
 * A fresh hop for the profiling tools that measure what objects cost workerd: the edge
 * (relay mode `edge`) or `floor-object` (a bare SQLite object per request) in a workerd of
 * its own, in front of three reference origins (the bench's balance world).
 */
import { startBalanceWorld } from "../../bench/lib/balance-world.ts";
import { edgeTarget } from "../../bench/targets/edge.ts";
import { floorTarget } from "../../bench/targets/floors.ts";

export const OBJECT_HOPS = ["edge", "floor-object"];

export interface FreshHop {
  readonly pids: number[];
  /** One `POST /session`: a new session object. */
  create(): Promise<void>;
  close(): Promise<void>;
}

export async function startFreshHop(name: string): Promise<FreshHop> {
  // The targets' inFrontOf starts the fresh hop; the outer target is only its factory.
  const outer =
    name === "floor-object" ? floorTarget({ kind: "object", url: "", pids: [], close: async () => {} }) : name === "edge" ? edgeTarget("http://unused") : undefined;
  if (outer === undefined) throw new Error(`no such hop: ${name} (${OBJECT_HOPS.join(" or ")})`);
  const world = await startBalanceWorld(outer, 3, {}, () => {});
  const hop = world.hop.target;
  const pids = hop.pids?.() ?? [];
  if (pids.length === 0) {
    await world.close();
    throw new Error("the hop's workerd PID is unknown");
  }
  const base = hop.nextBase();
  return {
    pids,
    async create() {
      const res = await fetch(`${base}/session`, { method: "POST", headers: hop.createHeaders?.() ?? {} });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`POST /session answered ${res.status}`);
    },
    close: () => world.close(),
  };
}
