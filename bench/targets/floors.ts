/**
 * The two floor columns: what the platform allows without push-edge's own work, measured
 * in the same run, so "as fast as the platform allows" is a ratio.
 * - `floor-worker`: client → minimal Worker (fetch the origin, pipe WebSockets) → origin.
 *   CR requests name their origin (`x-floor-origin`, from the S response's X-Origin-Id).
 * - `floor-object`: client → minimal Worker → SQLite-backed Durable Object → origin; each
 *   S request makes a new object that writes one row, CR requests name it (`x-floor-object`).
 * Both balance round robin; they are floors, not balancers, so the balance scenarios
 * leave their columns empty (`floor: true`). `inFrontOf` gives a fresh workerd for the
 * idle-memory scenario, which measures a first fill.
 */
import { startFloor, type FloorKind, type RunningFloor } from "../lib/floor-runner.ts";
import { headerValue, type Target } from "./target.ts";

const PATHS: Record<FloorKind, string> = {
  worker: "client → minimal Worker (workerd: fetch, WebSocket pair piped) → origin",
  object: "client → minimal Worker → SQLite-backed Durable Object (one row per session) → origin",
};

export function floorTarget(floor: RunningFloor): Target {
  const kind = floor.kind;
  return {
    name: `floor-${kind}`,
    path: PATHS[kind],
    floor: true,
    nextBase: () => floor.url,
    affinity(created) {
      const name = kind === "worker" ? "x-origin-id" : "x-floor-object";
      const value = headerValue(created.headers, name);
      if (value === undefined || value === "") return `S response ${created.status} carried no ${name}`;
      return { base: floor.url, headers: { [kind === "worker" ? "x-floor-origin" : "x-floor-object"]: value } };
    },
    pids: () => [...floor.pids],
    async inFrontOf(origins, options) {
      const other = await startFloor(kind, origins, options.log === undefined ? {} : { log: options.log });
      return { target: floorTarget(other), close: () => other.close() };
    },
  };
}
