/**
 * Client → origin, no hop in between: the baseline column. New sessions go round-robin
 * over the origins (as a client with the origins' addresses would spread them), and CR
 * requests go back to the origin that created the session.
 */
import type { Target } from "./target.ts";

export function directTarget(origins: ReadonlyArray<{ id: string; url: string }>): Target {
  if (origins.length === 0) throw new TypeError("directTarget needs at least one origin");
  let next = 0;
  return {
    name: "direct",
    path: `client → origin (${origins.length} origins, round-robin)`,
    nextBase() {
      const origin = origins[next % origins.length];
      next += 1;
      if (origin === undefined) throw new TypeError("no origin");
      return origin.url;
    },
    affinity(created) {
      return { base: created.base, headers: {} };
    },
  };
}
