/**
 * Session expiry (CreateRoute.endAt): the session object's one alarm serves its deadlines
 * — end the session (reason `expired`), forget its record — and is safe to run early,
 * late or twice.
 */
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { decodeRoute, encodeRoute } from "../../durable-objects/session/route.ts";
import { RECORD_GRACE_MS, type SessionObject } from "../../durable-objects/session/session-object.ts";
import { SessionStore } from "../../durable-objects/session/store.ts";
import { sessionStub } from "../../durable-objects/session/stub.ts";
import { FakeOriginSocket, clientSocket, createRoute, fakeOrigin, routed, upgrade } from "./support/session-harness.ts";

afterEach(() => {
  vi.restoreAllMocks();
});

/** Moves a stored deadline to the past, as if its time had come (the alarm checks the clock). */
async function makeDue(stub: DurableObjectStub<SessionObject>, kind: "end" | "forget"): Promise<void> {
  await runInDurableObject(stub, (_instance, state) => {
    state.storage.sql.exec("UPDATE deadlines SET at = ? WHERE kind = ?", Date.now() - 1, kind);
  });
}

async function alarmAt(stub: DurableObjectStub<SessionObject>): Promise<number | null> {
  return runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
}

describe("session expiry", () => {
  it("carries endAt in the create route, and refuses a malformed one", () => {
    const route = createRoute("sk", "generic", { endAt: 1_700_000_000_000 });
    expect(decodeRoute(encodeRoute(route))).toMatchObject({ endAt: 1_700_000_000_000 });
    expect(decodeRoute(JSON.stringify({ ...route, endAt: "soon" }))).toBeUndefined();
    const { endAt: _none, ...without } = route;
    expect(decodeRoute(encodeRoute(without))?.op).toBe("create");
  });

  it("ends the session at endAt with the protocol's signal; an early alarm changes nothing", async () => {
    const sk = crypto.randomUUID();
    const origin = new FakeOriginSocket();
    fakeOrigin(() => origin.respond());
    const stub = sessionStub(env, sk);
    const endAt = Date.now() + 60_000;
    const ws = clientSocket(await stub.fetch(routed("/ws", createRoute(sk, "generic", { endAt }), upgrade)));
    // The alarm is set to the earliest deadline: the end, well before the record's cleanup.
    expect(await alarmAt(stub)).toBe(endAt);

    // Run before its time (a retried or early alarm): nothing ends, the alarm stays set.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stub.describe()).record?.state).toBe("active");
    expect(await alarmAt(stub)).toBe(endAt);

    await makeDue(stub, "end");
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const closed = await ws.closed;
    expect(closed.code).toBe(1012);
    expect(closed.reason).toContain("maximum session duration reached");
    const view = await stub.describe();
    expect(view.record).toMatchObject({ state: "ended", endedReason: "expired" });
    expect(view.events.filter((e) => e.kind === "ended")).toHaveLength(1);
    // What is left is the record's cleanup, a grace period after the end.
    const next = await alarmAt(stub);
    expect(next).not.toBeNull();
    expect(next ?? 0).toBeGreaterThan(Date.now());
    expect(next ?? Infinity).toBeLessThanOrEqual(Date.now() + RECORD_GRACE_MS);

    // Safe to run twice: a second run ends nothing more.
    await runInDurableObject(stub, (instance) => instance.alarm());
    expect((await stub.describe()).events.filter((e) => e.kind === "ended")).toHaveLength(1);
  });

  it("serves two due deadlines in one run: ends the session, then forgets it", async () => {
    const sk = crypto.randomUUID();
    const origin = new FakeOriginSocket();
    fakeOrigin(() => origin.respond());
    const stub = sessionStub(env, sk);
    const route = createRoute(sk, "generic", { endAt: Date.now() + 60_000, expiresAt: Date.now() + 120_000 });
    const ws = clientSocket(await stub.fetch(routed("/ws", route, upgrade)));
    await makeDue(stub, "end");
    await makeDue(stub, "forget");

    expect(await runDurableObjectAlarm(stub)).toBe(true);
    // The open WebSocket heard the end (so it no longer holds the record back)...
    expect((await ws.closed).code).toBe(1012);
    // ...and the record is gone.
    expect((await stub.describe()).record).toBeUndefined();
    expect(await alarmAt(stub)).toBeNull();
    await runInDurableObject(stub, (instance) => instance.alarm());
    expect((await stub.describe()).record).toBeUndefined();
  });

  it("migrates a v2 store: its record's cleanup becomes a deadline", async () => {
    const stub = sessionStub(env, crypto.randomUUID());
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec("DROP TABLE deadlines");
      // Back to v2's shape: without v4's columns and legs table too.
      sql.exec("ALTER TABLE session DROP COLUMN relay_mode; ALTER TABLE session DROP COLUMN limits; DROP TABLE legs");
      sql.exec("UPDATE meta SET value = '2' WHERE key = 'schema_version'");
      sql.exec(
        `INSERT INTO session (id, sk, pool, adapter, origin_id, origin_url, origin_session_id, state, created_at, expires_at, ended_reason)
         VALUES (1, 'old-sk', 'default', 'generic', 'o1', 'http://o1.test', NULL, 'active', 1, 5000, NULL)`,
      );
      const store = new SessionStore(sql);
      expect(store.deadline("forget")).toBe(5000 + RECORD_GRACE_MS);
      expect(store.deadline("end")).toBeUndefined();
      expect(store.nextDeadline()).toBe(5000 + RECORD_GRACE_MS);
    });
  });
});
