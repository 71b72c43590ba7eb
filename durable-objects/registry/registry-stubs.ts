/**
 * Where the registry of an origin's sessions lives: SHARD_COUNT `OriginSessions` objects
 * per (pool, origin), a session in the shard its key hashes to.
 *
 * Why shards: every S request registers its session with the registry of the origin it
 * was placed on. At 10,000 new sessions per second across the edge, a pool of a few dozen
 * origins would send hundreds of writes per second to each origin's registry — more than
 * one Durable Object (single-threaded, one SQLite file) should take on the session-creation
 * path. Spread over SHARD_COUNT objects by a hash of the session key, each takes an eighth,
 * and counting or ending an origin's sessions is SHARD_COUNT small calls in parallel.
 */
import type { OriginSessions } from "./origin-sessions.ts";

export const SHARD_COUNT = 8;

/** FNV-1a (32-bit) of the session key: cheap, stable across deployments, well spread. */
export function shardOf(sk: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < sk.length; i++) {
    hash ^= sk.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % SHARD_COUNT;
}

function namespace(env: Env): DurableObjectNamespace<OriginSessions> {
  // `wrangler types` leaves the binding untyped; the class is ours, so the cast is sound.
  return env.ORIGIN_SESSIONS as unknown as DurableObjectNamespace<OriginSessions>;
}

/** The object's name: JSON, so no pool or origin name can collide with another pair. */
function shardName(pool: string, originId: string, shard: number): string {
  return JSON.stringify([pool, originId, shard]);
}

/** Every shard of an origin's registry, shard 0 first. */
export function registryStubs(env: Env, pool: string, originId: string): DurableObjectStub<OriginSessions>[] {
  const ns = namespace(env);
  return Array.from({ length: SHARD_COUNT }, (_, shard) => ns.get(ns.idFromName(shardName(pool, originId, shard))));
}

/** The shard that holds (or will hold) one session. */
export function registryStubFor(env: Env, pool: string, originId: string, sk: string): DurableObjectStub<OriginSessions> {
  const ns = namespace(env);
  return ns.get(ns.idFromName(shardName(pool, originId, shardOf(sk))));
}
