import { env } from "cloudflare:workers";
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { FAILURE_HEADER, ROUTE_HEADER, encodeRoute, type Route } from "../../durable-objects/session/route.ts";
import { RECORD_GRACE_MS } from "../../durable-objects/session/session-object.ts";
import { sessionStub } from "../../durable-objects/session/stub.ts";
import { FakeOriginSocket, eventually, upgrade } from "./support/session-harness.ts";

const ORIGIN = { id: "o2", url: "http://origin-two.test:8080" };

function routed(path: string, route: Route, init: RequestInit = {}): Request {
  const headers = new Headers(init.headers);
  headers.set(ROUTE_HEADER, encodeRoute(route));
  return new Request(`https://push.example.com${path}`, { ...init, headers });
}

const create = (sk: string, expiresAt = Date.now() + 3_600_000): Route => ({
  op: "create",
  sk,
  pool: "default",
  adapter: "generic",
  origin: ORIGIN,
  expiresAt,
  token: `token-of-${sk}`,
  announce: false,
});
const relay = (sk: string, origin = ORIGIN.id): Route => ({ op: "relay", sk, pool: "default", origin, token: `token-of-${sk}` });

/**
 * Stands in for the origin: the session object runs in the test's isolate, so it sees this
 * fetch. Each call replaces the behaviour and starts a fresh call record.
 */
function fakeOrigin(respond: (req: Request) => Response | Promise<Response>) {
  const spy = vi.spyOn(globalThis, "fetch");
  spy.mockClear();
  return spy.mockImplementation(async (input, init) => respond(new Request(input, init)));
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("session object", () => {
  it("keeps its mapping across eviction and relays CR to the mapped origin only", async () => {
    const sk = crypto.randomUUID();
    const seen: string[] = [];
    const routeHeaders: Array<string | null> = [];
    fakeOrigin((req) => {
      seen.push(req.url);
      routeHeaders.push(req.headers.get(ROUTE_HEADER));
      return new Response("{}", { status: 201, headers: { "x-session-id": "origin-sid-1", "x-origin-id": "o2" } });
    });
    const stub = sessionStub(env, sk);
    const created = await stub.fetch(routed("/session", create(sk), { method: "POST" }));
    expect(created.status).toBe(201);
    await created.text(); // an unread body keeps the request in flight, and eviction waits for it

    await evictDurableObject(stub);
    const view = await stub.describe();
    expect(view.record).toMatchObject({ sk, originId: "o2", originUrl: ORIGIN.url, originSessionId: "origin-sid-1", state: "active" });

    const res = await stub.fetch(routed("/session/origin-sid-1/control?x=1", relay(sk), { method: "POST", body: "{}" }));
    expect(res.status).toBe(201);
    // The edge's internal route never reaches an origin: the object takes it off on entry.
    expect(routeHeaders.length).toBeGreaterThan(0);
    expect(routeHeaders.every((h) => h === null)).toBe(true);
    expect(seen).toEqual([`${ORIGIN.url}/session`, `${ORIGIN.url}/session/origin-sid-1/control?x=1`]);
  });

  it("answers 502 when its origin is unreachable, records it, and tries no other origin", async () => {
    const sk = crypto.randomUUID();
    fakeOrigin(() => new Response("{}", { status: 201 }));
    const stub = sessionStub(env, sk);
    await stub.fetch(routed("/session", create(sk), { method: "POST" }));

    const calls = fakeOrigin(() => {
      throw new TypeError("connect ECONNREFUSED");
    });
    const res = await stub.fetch(routed("/session/x/stream", relay(sk)));
    expect(res.status).toBe(502);
    expect(res.headers.get(FAILURE_HEADER)).toBe("origin_unreachable");
    expect(await res.json()).toMatchObject({ error: "origin_unreachable" });
    expect(calls.mock.calls.map(([input]) => new Request(input).url)).toEqual([`${ORIGIN.url}/session/x/stream`]);
    const { events } = await stub.describe();
    expect(events.map((e) => e.kind)).toEqual(["created", "origin_unreachable"]);
  });

  it("leaves no record when the origin cannot be reached on create", async () => {
    const sk = crypto.randomUUID();
    fakeOrigin(() => {
      throw new TypeError("connect ECONNREFUSED");
    });
    const stub = sessionStub(env, sk);
    const res = await stub.fetch(routed("/session", create(sk), { method: "POST" }));
    expect(res.status).toBe(502);
    expect((await stub.describe()).record).toBeUndefined();
  });

  it("keeps no record when the origin refuses the session", async () => {
    const sk = crypto.randomUUID();
    fakeOrigin(() => Response.json({ error: "origin_full" }, { status: 503 }));
    const stub = sessionStub(env, sk);
    const res = await stub.fetch(routed("/session", create(sk), { method: "POST" }));
    expect(res.status).toBe(503);
    await res.text();
    expect((await stub.describe()).record).toBeUndefined();
  });

  it("writes nothing before the origin accepted: a refused or unreachable S leaves no database tables", async () => {
    for (const respond of [() => Response.json({ error: "origin_full" }, { status: 503 }), (): Response => {
      throw new TypeError("connect ECONNREFUSED");
    }]) {
      fakeOrigin(respond);
      const stub = sessionStub(env, crypto.randomUUID());
      const res = await stub.fetch(routed("/session", create("refused"), { method: "POST" }));
      expect([502, 503]).toContain(res.status);
      await res.text();
      const tables = await runInDurableObject(stub, (_instance, state) =>
        state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE name NOT LIKE '_cf_%'").toArray(),
      );
      expect(tables).toEqual([]);
    }
  });

  it("refuses a second create of one key: before the origin while it knows the session, after it once evicted", async () => {
    const sk = crypto.randomUUID();
    let n = 0;
    const calls = fakeOrigin(() => new Response("{}", { status: 201, headers: { "x-session-id": `origin-sid-${++n}` } }));
    const stub = sessionStub(env, sk);
    const created = await stub.fetch(routed("/session", create(sk), { method: "POST" }));
    expect(created.status).toBe(201);
    await created.text(); // an unread body keeps the request in flight, and eviction waits for it

    const again = await stub.fetch(routed("/session", create(sk), { method: "POST" }));
    expect(again.status).toBe(409);
    await again.text();
    expect(calls).toHaveBeenCalledTimes(1);

    // A fresh instance has not read its storage: it learns of the session once the origin answered.
    await evictDurableObject(stub);
    const afterEviction = await stub.fetch(routed("/session", create(sk), { method: "POST" }));
    expect(afterEviction.status).toBe(409);
    await afterEviction.text();
    expect(calls).toHaveBeenCalledTimes(2);
    const view = await stub.describe();
    expect(view.record).toMatchObject({ sk, originSessionId: "origin-sid-1", state: "active" });
    expect(view.events.filter((e) => e.kind === "created")).toHaveLength(1);
  });

  it("closes the origin's WebSocket of a replayed create it refuses after the origin answered", async () => {
    const sk = crypto.randomUUID();
    fakeOrigin(() => new Response("{}", { status: 201 }));
    const stub = sessionStub(env, sk);
    await (await stub.fetch(routed("/session", create(sk), { method: "POST" }))).text();
    await evictDurableObject(stub);

    const origin = new FakeOriginSocket();
    fakeOrigin(() => origin.respond());
    const replay = await stub.fetch(routed("/ws", create(sk), upgrade));
    expect(replay.status).toBe(409);
    await replay.text();
    expect(await eventually(() => origin.closed, "the origin's socket to close")).toBeDefined();
  });

  it("stores a create's activity with the session: an eviction right after loses none of it", async () => {
    fakeOrigin(() => new Response("{}", { status: 201 }));
    const stub = sessionStub(env, crypto.randomUUID());
    const created = await stub.fetch(routed("/session", create("counted"), { method: "POST" }));
    expect(created.status).toBe(201);
    await created.text();
    await evictDurableObject(stub);
    // The create (written with it) and this describe (counted, not yet written); one wake.
    expect((await stub.describe()).activity).toMatchObject({ wakes: 1, requests: 2 });
  });

  it("refuses a relay whose token names another origin, and an unknown session", async () => {
    const sk = crypto.randomUUID();
    fakeOrigin(() => new Response("{}", { status: 201 }));
    const stub = sessionStub(env, sk);
    await stub.fetch(routed("/session", create(sk), { method: "POST" }));
    const calls = fakeOrigin(() => new Response("should not be reached"));
    expect((await stub.fetch(routed("/s", relay(sk, "o1")))).status).toBe(401);

    const unknown = sessionStub(env, crypto.randomUUID());
    const res = await unknown.fetch(routed("/s", relay("nope")));
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: "session_not_found" });
    expect(calls).not.toHaveBeenCalled();
  });

  it("refuses requests without the edge's route", async () => {
    const stub = sessionStub(env, crypto.randomUUID());
    const res = await stub.fetch(new Request("https://push.example.com/session"));
    expect(res.status).toBe(400);
  });

  it("forgets the session once its token has expired", async () => {
    const sk = crypto.randomUUID();
    fakeOrigin(() => new Response("{}", { status: 201 }));
    const stub = sessionStub(env, sk);
    await stub.fetch(routed("/session", create(sk, Date.now() - RECORD_GRACE_MS - 1000), { method: "POST" }));
    expect((await stub.describe()).record).toBeDefined();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stub.describe()).record).toBeUndefined();
    // Nothing is left: no record, no event log, not even the schema.
    const tables = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'").toArray(),
    );
    expect(tables).toEqual([]);
  });
});
