/**
 * A session's entry in the registry of its origin's sessions (durable-objects/registry/):
 * added when the session is created, removed when it ends or its record is forgotten.
 * Failures are logged, never thrown: the registry serves drains and rebalancing, and a
 * session must not fail because its registry shard was briefly unavailable. (A missed
 * removal leaves an entry that the registry drops the next time it tries to end it.)
 */
import { errorMessage, log } from "../../observability/log.ts";
import { registryStubFor } from "../registry/registry-stubs.ts";
import type { SessionRecord } from "./store.ts";

/** Off the response path: a registry that is slow to answer must not slow session creation. */
export function register(ctx: DurableObjectState, env: Env, record: SessionRecord): void {
  const registry = registryStubFor(env, record.pool, record.originId, record.sk);
  ctx.waitUntil(registry.add(record.sk, record.createdAt, record.originSessionId).catch((err: unknown) => logFailure("add", record.sk, err)));
}

/** The origin named the session after registration: the registry learns it too (admin lookup). */
export function registerOriginSessionId(ctx: DurableObjectState, env: Env, record: SessionRecord, originSessionId: string): void {
  const registry = registryStubFor(env, record.pool, record.originId, record.sk);
  ctx.waitUntil(registry.setOriginSessionId(record.sk, originSessionId).catch((err: unknown) => logFailure("add", record.sk, err)));
}

export async function unregister(env: Env, record: SessionRecord): Promise<void> {
  try {
    await registryStubFor(env, record.pool, record.originId, record.sk).remove(record.sk);
  } catch (err) {
    logFailure("remove", record.sk, err);
  }
}

function logFailure(op: "add" | "remove", sk: string, err: unknown): void {
  log("registry_failed", { op, sk, message: errorMessage(err) }, "error");
}
