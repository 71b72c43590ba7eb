/**
 * The coordinator's way to count and end the sessions the edge placed on an origin,
 * through the sharded session registry (durable-objects/registry/).
 */
import { registryStubs } from "../registry/registry-stubs.ts";

type EndReason = "drain" | "rebalance" | "origin_restarted";

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

/** Sessions ended per shard and tick after a restart: bounded, so one tick stays short. */
const LOST_PER_SHARD_PER_TICK = 250;

/**
 * Ends the sessions registered on an origin before `before` — the ones a restart of the
 * origin lost. Returns how many live ones it ended and how many are still registered.
 */
export async function endLostSessions(env: Env, pool: string, originId: string, before: number): Promise<{ ended: number; left: number }> {
  const results = await Promise.all(
    registryStubs(env, pool, originId).map((stub) => stub.endRegisteredBefore(before, LOST_PER_SHARD_PER_TICK, "origin_restarted")),
  );
  return results.reduce((sum, r) => ({ ended: sum.ended + r.ended, left: sum.left + r.left }), { ended: 0, left: 0 });
}
