/**
 * Client → edge (Worker in workerd) → session Durable Object → origin. The edge places S
 * requests itself and answers with an affinity token, which CR requests carry back in
 * the `X-Affinity-Token` header. Two columns: `edge` (the pool's default relay mode) and
 * `edge-object` (`settings.relay: "object"`: every byte through the session object).
 */
import { startStack } from "../../infra/local/stack.ts";
import { childPids } from "../lib/procs.ts";
import { headerValue, type Target } from "./target.ts";

const TOKEN_HEADER = "x-affinity-token";

/** The pool setting that picks the relay mode (branch relay); absent: the default. */
export type RelayMode = "edge" | "object";

/** The edge column's name and pool settings for a relay mode (undefined: the pool's default). */
export function edgeColumn(relay: RelayMode | undefined): { name: string; settings: Record<string, unknown> } {
  // Every bench client comes from 127.0.0.1, one client network: the per-network S budget
  // (a defence against one network's flood, README) would measure itself, not the relay.
  // HAProxy and nginx run without one too.
  const settings = { networkBudget: { sessions: 0 } };
  return relay === "object" ? { name: "edge-object", settings: { ...settings, relay: "object" } } : { name: "edge", settings };
}

/** The edge's request handling, without the ability to start another one. */
export function edgeClient(edgeUrl: string, pids?: () => number[], name = "edge"): Target {
  return {
    name,
    path:
      name === "edge-object"
        ? 'client → edge (workerd) → session DO → origin (relay: "object": every leg through the object)'
        : "client → edge (workerd) → origin (relay: the pool's default — \"edge\": the Worker pumps the legs the session DO admitted; CR requests through the DO)",
    nextBase: () => edgeUrl,
    affinity(created) {
      const token = headerValue(created.headers, TOKEN_HEADER);
      if (token === undefined || token === "") return `S response ${created.status} carried no ${TOKEN_HEADER}`;
      return { base: edgeUrl, headers: { [TOKEN_HEADER]: token } };
    },
    ...(pids === undefined ? {} : { pids }),
  };
}

export function edgeTarget(edgeUrl: string, pids?: () => number[], relay?: RelayMode): Target {
  const column = edgeColumn(relay);
  return {
    ...edgeClient(edgeUrl, pids, column.name),
    async inFrontOf(origins, options) {
      // The deploy bundle is built by now (the run's own stack built it).
      const before = new Set(childPids("workerd"));
      const poolSettings = { ...options.poolSettings, ...column.settings };
      const stack = await startStack({
        port: 0,
        origins,
        prebuilt: true,
        ...(Object.keys(poolSettings).length === 0 ? {} : { poolSettings }),
        ...(options.log === undefined ? {} : { log: options.log }),
      });
      const pids = childPids("workerd").filter((p) => !before.has(p));
      return { target: edgeClient(stack.edgeUrl, () => pids, column.name), close: () => stack.close() };
    },
  };
}
