/**
 * The coordinator's way to count and end the sessions the edge placed on an origin,
 * through the sharded session registry (durable-objects/registry/).
 */
import { registryStubs } from "../registry/registry-stubs.ts";

type EndReason = "drain" | "rebalance";

export async function countSessionsOn(env: Env, pool: string, originId: string): Promise<number> {
  const counts = await Promise.all(registryStubs(env, pool, originId).map((stub) => stub.count()));
  return counts.reduce((sum, n) => sum + n, 0);
}

/** Ends up to `count` sessions, spread over the shards; returns how many ended. */
export async function endSessionsOn(env: Env, pool: string, originId: string, count: number, reason: EndReason): Promise<number> {
  const stubs = registryStubs(env, pool, originId);
  let ended = 0;
  // Ask shards in turn, so a shard with few sessions leaves the rest to others.
  for (const [i, stub] of stubs.entries()) {
    const want = Math.ceil((count - ended) / (stubs.length - i));
    if (want <= 0) break;
    ended += await stub.end(want, reason);
  }
  // A second pass picks up what shards with too few sessions could not give.
  for (const stub of stubs) {
    if (ended >= count) break;
    ended += await stub.end(count - ended, reason);
  }
  return ended;
}
