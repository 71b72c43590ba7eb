/**
 * Where the edge applies a pool's path policy (config/path-policy.ts): before a request
 * is classified, so a denied path opens no session, reaches no origin and mints no token.
 * Refusals are 403 `forbidden` in the protocol's words and logged (one JSON line: pool,
 * path, the pattern that refused it); the client is not told which pattern.
 */
import type { PoolConfig } from "../../../config/config.ts";
import { pathRefusal } from "../../../config/path-policy.ts";
import type { Failure } from "../../../protocols/adapter.ts";

export function refuseByPathPolicy(pool: PoolConfig, url: URL, failure: Failure): Response | undefined {
  const rule = pathRefusal(pool.settings.pathPolicy, url.pathname);
  if (rule === undefined) return undefined;
  console.warn(JSON.stringify({ event: "path_refused", pool: pool.name, path: url.pathname.slice(0, 200), rule }));
  return failure(403, "forbidden", "this path is not served through the edge");
}
