/**
 * This isolate's view of a pool, fresh enough to place a request with: a cold isolate
 * waits once (bounded) for its first snapshot; one whose snapshot expired (no placement
 * here for a while — a drain may have begun, an origin died) waits, bounded, for today's;
 * a merely stale one refreshes in the background. Shared by S placement and the
 * stateless relay of requests that open no session.
 */
import { coordinatorStub } from "../../../durable-objects/pool/stub.ts";
import type { PoolConfig } from "../../../config/config.ts";
import { poolView, type PoolView } from "./pool-view.ts";

/** How long a cold isolate waits for its first snapshot before it gives up on this request. */
export const FIRST_SNAPSHOT_TIMEOUT_MS = 5_000;
/** How long a request waits for a fresh snapshot when the cached one has expired. */
export const EXPIRED_SNAPSHOT_WAIT_MS = 500;

export async function readyView(env: Env, pool: PoolConfig, waitUntil: (promise: Promise<unknown>) => void): Promise<PoolView> {
  const view = poolView(pool);
  const coordinator = coordinatorStub(env, pool.name);
  if (!view.hasSnapshot) {
    await Promise.race([view.refresh(coordinator).catch(() => undefined), sleep(FIRST_SNAPSHOT_TIMEOUT_MS)]);
  } else if (view.isExpired(Date.now())) {
    await Promise.race([view.refresh(coordinator).catch(() => undefined), sleep(EXPIRED_SNAPSHOT_WAIT_MS)]);
  } else if (view.isStale(Date.now())) {
    waitUntil(view.refresh(coordinator).catch(() => undefined));
  }
  return view;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
