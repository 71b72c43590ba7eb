/**
 * Client → edge (Worker in workerd) → session Durable Object → origin. The edge places S
 * requests itself and answers with an affinity token, which CR requests carry back in
 * the `X-Affinity-Token` header.
 */
import { headerValue, type Target } from "./target.ts";

const TOKEN_HEADER = "x-affinity-token";

export function edgeTarget(edgeUrl: string, pids?: () => number[]): Target {
  return {
    ...(pids === undefined ? {} : { pids }),
    name: "edge",
    path: "client → edge (workerd) → session DO → origin",
    nextBase: () => edgeUrl,
    affinity(created) {
      const token = headerValue(created.headers, TOKEN_HEADER);
      if (token === undefined || token === "") return `S response ${created.status} carried no ${TOKEN_HEADER}`;
      return { base: edgeUrl, headers: { [TOKEN_HEADER]: token } };
    },
  };
}
