/**
 * Client → edge (Worker in workerd) → session Durable Object → origin. The edge places S
 * requests itself and answers with an affinity token, which CR requests carry back in
 * the `X-Affinity-Token` header.
 */
import { startStack } from "../../infra/local/stack.ts";
import { childPids } from "../lib/procs.ts";
import { headerValue, type Target } from "./target.ts";

const TOKEN_HEADER = "x-affinity-token";

/** The edge's request handling, without the ability to start another one. */
export function edgeClient(edgeUrl: string, pids?: () => number[]): Target {
  return {
    name: "edge",
    path: "client → edge (workerd) → session DO → origin",
    nextBase: () => edgeUrl,
    affinity(created) {
      const token = headerValue(created.headers, TOKEN_HEADER);
      if (token === undefined || token === "") return `S response ${created.status} carried no ${TOKEN_HEADER}`;
      return { base: edgeUrl, headers: { [TOKEN_HEADER]: token } };
    },
    ...(pids === undefined ? {} : { pids }),
  };
}

export function edgeTarget(edgeUrl: string, pids?: () => number[]): Target {
  return {
    ...edgeClient(edgeUrl, pids),
    async inFrontOf(origins, options) {
      // The deploy bundle is built by now (the run's own stack built it).
      const before = new Set(childPids("workerd"));
      const stack = await startStack({
        port: 0,
        origins,
        prebuilt: true,
        ...(options.poolSettings === undefined ? {} : { poolSettings: options.poolSettings }),
        ...(options.log === undefined ? {} : { log: options.log }),
      });
      const pids = childPids("workerd").filter((p) => !before.has(p));
      return { target: edgeClient(stack.edgeUrl, () => pids), close: () => stack.close() };
    },
  };
}
