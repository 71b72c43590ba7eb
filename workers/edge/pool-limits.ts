/**
 * A pool's input limits by pool name, for the session object (which knows its session's
 * pool by name). Read from the isolate's parsed configuration; an edge whose configuration
 * does not parse would refuse the request long before, so the defaults here are only a
 * fallback for a pool that has since been removed from POOLS.
 */
import { DEFAULT_LIMITS, type Limits } from "../../config/limits.ts";
import { edgeRuntime } from "./runtime.ts";

export function poolLimits(env: Env, poolName: string): Limits {
  try {
    return edgeRuntime(env).config.pools.find((p) => p.name === poolName)?.settings.limits ?? DEFAULT_LIMITS;
  } catch {
    return DEFAULT_LIMITS;
  }
}
