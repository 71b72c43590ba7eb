/** The coordinator of a pool, named by the pool's name. */
import type { PoolCoordinator } from "./coordinator.ts";

export function coordinatorStub(env: Env, pool: string): DurableObjectStub<PoolCoordinator> {
  // `wrangler types` leaves the binding untyped; the class is ours, so the cast is sound.
  const ns = env.POOL_COORDINATOR as unknown as DurableObjectNamespace<PoolCoordinator>;
  return ns.get(ns.idFromName(pool));
}
