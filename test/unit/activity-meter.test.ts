/**
 * The activity meter writes a wake's first busy period at once and later ones at most
 * every WRITE_INTERVAL_MS (a SQLite commit per CR request was most of the CR path's CPU):
 * what it counted in between is in `totals()` all the same, and goes into storage with
 * the next write.
 */
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ActivityMeter, WRITE_INTERVAL_MS } from "../../durable-objects/activity.ts";

type Row = { wakes: number; active_ms: number; requests: number; ws_messages: number };

function stored(sql: SqlStorage): Row | undefined {
  return sql.exec<Row>("SELECT wakes, active_ms, requests, ws_messages FROM activity WHERE id = 1").toArray()[0];
}

describe("activity meter", () => {
  it("writes a wake's first busy period, then at most once per interval, and counts everything", async () => {
    const stub = env.SESSIONS.get(env.SESSIONS.newUniqueId());
    await runInDurableObject(stub, async (_instance, state) => {
      const sql = state.storage.sql;
      let now = 1_000_000;
      const meter = new ActivityMeter(sql, () => true, () => now);
      meter.woke();

      await meter.run("request", () => {
        now += 20;
      });
      expect(stored(sql)).toEqual({ wakes: 1, active_ms: 20, requests: 1, ws_messages: 0 });

      // Two more periods inside the interval: counted, not written.
      now += 1_000;
      await meter.run("request", () => {
        now += 5;
      });
      now += 1_000;
      await meter.run("message", () => {
        now += 5;
      });
      expect(stored(sql)).toEqual({ wakes: 1, active_ms: 20, requests: 1, ws_messages: 0 });
      expect(meter.totals()).toEqual({ wakes: 1, activeMs: 30, requests: 2, webSocketMessages: 1 });

      // The first period that ends an interval after the last write writes all of it.
      now += WRITE_INTERVAL_MS;
      await meter.run("request", () => {
        now += 10;
      });
      expect(stored(sql)).toEqual({ wakes: 1, active_ms: 40, requests: 3, ws_messages: 1 });
      expect(meter.totals()).toEqual({ wakes: 1, activeMs: 40, requests: 3, webSocketMessages: 1 });
    });
  });

  it("writes the first busy period of every new instance (a wake), however soon after the last write", async () => {
    const stub = env.SESSIONS.get(env.SESSIONS.newUniqueId());
    await runInDurableObject(stub, async (_instance, state) => {
      const sql = state.storage.sql;
      const now = 2_000_000;
      await new ActivityMeter(sql, () => true, () => now).run("request", () => undefined);
      const next = new ActivityMeter(sql, () => true, () => now);
      next.woke();
      await next.run("request", () => undefined);
      expect(stored(sql)).toEqual({ wakes: 1, active_ms: 0, requests: 2, ws_messages: 0 });
    });
  });

  it("checkpoint writes the busy period so far, and the period's end then writes nothing more", async () => {
    const stub = env.SESSIONS.get(env.SESSIONS.newUniqueId());
    await runInDurableObject(stub, async (_instance, state) => {
      const sql = state.storage.sql;
      let now = 3_000_000;
      const meter = new ActivityMeter(sql, () => true, () => now);
      await meter.run("request", () => {
        now += 7;
        meter.checkpoint();
        expect(stored(sql)).toEqual({ wakes: 0, active_ms: 7, requests: 1, ws_messages: 0 });
        now += 3;
      });
      // Written within the interval: the rest waits for the next write, counted meanwhile.
      expect(stored(sql)).toEqual({ wakes: 0, active_ms: 7, requests: 1, ws_messages: 0 });
      expect(meter.totals()).toEqual({ wakes: 0, activeMs: 10, requests: 1, webSocketMessages: 0 });
    });
  });
});
