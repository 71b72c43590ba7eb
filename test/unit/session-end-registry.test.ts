/**
 * The registry of which sessions live on which origin (OriginSessions, sharded): session
 * objects add themselves on creation and leave when they end or are forgotten; end(n)
 * ends the oldest n through their session objects.
 */
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { SHARD_COUNT, registryStubFor, registryStubs, shardOf } from "../../durable-objects/registry/registry-stubs.ts";
import { RECORD_GRACE_MS } from "../../durable-objects/session/session-object.ts";
import { sessionStub } from "../../durable-objects/session/stub.ts";
import { ORIGIN, createRoute, eventually, fakeOrigin, routed } from "./support/session-harness.ts";

afterEach(() => {
  vi.restoreAllMocks();
});

async function countOnOrigin(pool: string): Promise<number> {
  const counts = await Promise.all(registryStubs(env, pool, ORIGIN.id).map((stub) => stub.count()));
  return counts.reduce((sum, n) => sum + n, 0);
}

/** A live generic session on ORIGIN in `pool`; waits until it has registered itself. */
async function liveSession(pool: string, sk = crypto.randomUUID(), expiresAt = Date.now() + 3_600_000): Promise<string> {
  fakeOrigin(() => new Response("{}", { status: 201 }));
  const res = await sessionStub(env, sk).fetch(routed("/session", createRoute(sk, "generic", { pool, expiresAt }), { method: "POST" }));
  await res.text();
  // Registration runs off the response path (waitUntil): wait for it, bounded.
  const shard = registryStubFor(env, pool, ORIGIN.id, sk);
  await eventually(async () => ((await shard.count()) > 0 ? true : undefined), `${sk} registered`);
  return sk;
}

/** Session keys that all land in one shard, so one shard's end() sees them all. */
function keysInShard(shard: number, n: number): string[] {
  const keys: string[] = [];
  while (keys.length < n) {
    const sk = crypto.randomUUID();
    if (shardOf(sk) === shard) keys.push(sk);
  }
  return keys;
}

describe("the origin session registry", () => {
  it("spreads session keys over its shards", () => {
    const shards = new Set(Array.from({ length: 200 }, () => shardOf(crypto.randomUUID())));
    expect(shards.size).toBe(SHARD_COUNT);
    expect(registryStubs(env, "p", "o1")).toHaveLength(SHARD_COUNT);
  });

  it("adds, counts and removes", async () => {
    const [shard] = registryStubs(env, crypto.randomUUID(), "o1");
    if (shard === undefined) throw new Error("no shard");
    await shard.add("a", 1);
    await shard.add("b", 2);
    await shard.add("a", 1); // idempotent
    expect(await shard.count()).toBe(2);
    await shard.remove("a");
    await shard.remove("nope");
    expect(await shard.count()).toBe(1);
  });

  it("holds a session from its creation until it ends", async () => {
    const pool = crypto.randomUUID();
    const sk = await liveSession(pool);
    expect(await countOnOrigin(pool)).toBe(1);
    expect(await sessionStub(env, sk).end("admin")).toBe(true);
    expect(await countOnOrigin(pool)).toBe(0);
  });

  it("lets a session go when its record is forgotten", async () => {
    const pool = crypto.randomUUID();
    const sk = await liveSession(pool, crypto.randomUUID(), Date.now() - RECORD_GRACE_MS - 1000);
    expect(await countOnOrigin(pool)).toBe(1);
    expect(await runDurableObjectAlarm(sessionStub(env, sk))).toBe(true);
    expect((await sessionStub(env, sk).describe()).record).toBeUndefined();
    expect(await countOnOrigin(pool)).toBe(0);
  });

  it("ends the oldest sessions first, through their session objects", async () => {
    const pool = crypto.randomUUID();
    const [oldest, middle, newest] = keysInShard(3, 3);
    if (oldest === undefined || middle === undefined || newest === undefined) throw new Error("no keys");
    for (const sk of [newest, oldest, middle]) await liveSession(pool, sk);
    const shard = registryStubFor(env, pool, ORIGIN.id, oldest);
    // Creation times decide the order, not the order of registration.
    await shard.add(oldest, 1_000);
    await shard.add(middle, 2_000);
    await shard.add(newest, 3_000);

    expect(await shard.end(2, "drain")).toBe(2);

    expect((await sessionStub(env, oldest).describe()).record).toMatchObject({ state: "ended", endedReason: "drain" });
    expect((await sessionStub(env, middle).describe()).record).toMatchObject({ state: "ended", endedReason: "drain" });
    expect((await sessionStub(env, newest).describe()).record).toMatchObject({ state: "active" });
    expect(await shard.count()).toBe(1);
    expect(await shard.end(0, "drain")).toBe(0);
  });

  it("drops a registered session that is already gone without counting it", async () => {
    const pool = crypto.randomUUID();
    const [live, ghost] = keysInShard(5, 2);
    if (live === undefined || ghost === undefined) throw new Error("no keys");
    await liveSession(pool, live);
    const shard = registryStubFor(env, pool, ORIGIN.id, live);
    await shard.add(ghost, 1); // older than the live one: tried first
    expect(await shard.end(5, "rebalance")).toBe(1);
    expect(await shard.count()).toBe(0);
    expect((await sessionStub(env, live).describe()).record).toMatchObject({ state: "ended", endedReason: "rebalance" });
  });
});
