/**
 * The origin's transport settings travel in the create route and live with the session:
 * a v1 store (written before transports existed) migrates to v2 and reads back as fetch;
 * tcp settings round-trip; a route with malformed settings is not a route.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { decodeRoute, encodeRoute, type CreateRoute } from "../../durable-objects/session/route.ts";
import { SessionStore, type SessionRecord } from "../../durable-objects/session/store.ts";
import { sessionStub } from "../../durable-objects/session/stub.ts";

/** The v1 schema exactly as the first release created it. */
const V1_SCHEMA = `CREATE TABLE session (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     sk TEXT NOT NULL, pool TEXT NOT NULL, adapter TEXT NOT NULL,
     origin_id TEXT NOT NULL, origin_url TEXT NOT NULL, origin_session_id TEXT,
     state TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
     ended_reason TEXT);
   CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL,
     kind TEXT NOT NULL, detail TEXT NOT NULL);`;

describe("session store, schema v2", () => {
  it("migrates a v1 store: its session reads back with the fetch transport, and tcp settings persist", async () => {
    const stub = sessionStub(env, crypto.randomUUID());
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec("DROP TABLE IF EXISTS session; DROP TABLE IF EXISTS events; DROP TABLE IF EXISTS deadlines; DROP TABLE IF EXISTS legs; DROP TABLE IF EXISTS meta;");
      sql.exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
      sql.exec(V1_SCHEMA);
      sql.exec("INSERT INTO meta (key, value) VALUES ('schema_version', '1')");
      sql.exec(
        `INSERT INTO session (id, sk, pool, adapter, origin_id, origin_url, origin_session_id, state, created_at, expires_at, ended_reason)
         VALUES (1, 'old-sk', 'default', 'generic', 'o1', 'http://o1.test', 'sid', 'active', 1, 2, NULL)`,
      );

      const store = new SessionStore(sql);
      const old = store.load();
      expect(old).toMatchObject({ sk: "old-sk", originId: "o1", originTransport: { kind: "fetch" } });
      const version = sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'schema_version'").one().value;
      // v3 (deadlines) and v4 (relay mode, limits, legs) run too; see session-end-expiry.test.ts
      // for what v3 carries over. A session from before relay modes was relayed by its object.
      expect(version).toBe("4");
      expect(old).toMatchObject({ relayMode: "object", limits: { bodyBytes: 1024 * 1024 } });

      const tcp: SessionRecord = { ...(old as SessionRecord), originTransport: { kind: "tcp", proxy: { version: 2, authKid: "k1" } } };
      store.save(tcp);
      expect(new SessionStore(sql).load()?.originTransport).toEqual({ kind: "tcp", proxy: { version: 2, authKid: "k1" } });
    });
  });
});

describe("create route with transport settings", () => {
  const base: CreateRoute = {
    op: "create",
    sk: "sk",
    pool: "default",
    adapter: "generic",
    origin: { id: "o1", url: "http://o1.test", transport: "tcp", proxy: { version: 1 } },
    expiresAt: 1,
    token: "t",
    announce: false,
  };

  it("carries tcp settings, and a route without any is a fetch route", () => {
    expect(decodeRoute(encodeRoute(base))).toEqual(base);
    const plain = { ...base, origin: { id: "o1", url: "http://o1.test" } };
    expect(decodeRoute(encodeRoute(plain))).toEqual(plain);
  });

  it("is refused when the settings are malformed", () => {
    for (const origin of [
      { id: "o1", url: "http://o1.test", transport: "udp" },
      { id: "o1", url: "http://o1.test", transport: "tcp", proxy: { version: 3 } },
      { id: "o1", url: "http://o1.test", transport: "tcp", proxy: { version: 1, authKid: "k" } },
      { id: "o1", url: "http://o1.test", proxy: { version: 2 } },
    ]) {
      expect(decodeRoute(JSON.stringify({ ...base, origin })), JSON.stringify(origin)).toBeUndefined();
    }
  });
});
