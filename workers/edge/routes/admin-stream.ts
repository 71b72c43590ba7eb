/**
 * GET /_edge/admin/pool/stream (admin host and token, as the rest of the admin API): the pool view, live, as server-sent
 * events — what the dashboard's table and chart (and the CLI's watch) run on.
 *
 *   event: history   once, first: {"pools": [{"name", "points": [{"at", "sessions": {origin: n}}]}]}
 *                    (the coordinator's sessions per origin over the last minutes)
 *   event: pool      every STREAM_INTERVAL_MS: {"at": ms, "pools": [...]} — each pool exactly
 *                    as GET /_edge/admin/pool describes it
 *
 * The stream ends after STREAM_MAX_MS (clients reconnect), so no dashboard left open holds
 * a request forever. It is sent with `Content-Encoding: identity` so that no compressing
 * hop holds events back.
 */
import { Hono } from "hono";
import { coordinatorStub } from "../../../durable-objects/pool/stub.ts";
import { configHash } from "../balance/pool-view.ts";
import { edgeRuntime } from "../runtime.ts";
import { adminAuth, adminHost } from "./admin.ts";
import type { AdminEnv } from "./admin-audit.ts";
import { describePool } from "./admin-pools.ts";

export const STREAM_INTERVAL_MS = 1_000;
export const STREAM_MAX_MS = 30 * 60 * 1000;

export function adminStreamRoutes(): Hono<AdminEnv> {
  const routes = new Hono<AdminEnv>();
  // Scoped to its own path: this app is mounted beside adminRoutes() under /_edge/admin.
  routes.get("/pool/stream", adminHost(), adminAuth(), function poolStream(c) {
    const env = c.env;
    const pools = edgeRuntime(env).config.pools;
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    const encoder = new TextEncoder();
    const send = (event: string, data: unknown) => writer.write(encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));

    const run = async (): Promise<void> => {
      const endAt = Date.now() + STREAM_MAX_MS;
      await writer.write(encoder.encode("retry: 2000\n\n"));
      const histories = await Promise.all(pools.map(async (pool) => ({ name: pool.name, points: await coordinatorStub(env, pool.name).history() })));
      await send("history", { pools: histories });
      while (Date.now() < endAt) {
        // snapshot(), not view(): a watched pool keeps its health checks running.
        const views = await Promise.all(pools.map(async (pool) => describePool(pool, await coordinatorStub(env, pool.name).snapshot(pool, configHash(pool)))));
        await send("pool", { at: Date.now(), pools: views });
        await new Promise((resolve) => setTimeout(resolve, STREAM_INTERVAL_MS));
      }
    };
    // A failed write means the client went away: the loop ends there.
    const done = run()
      .catch(() => undefined)
      .finally(() => writer.close().catch(() => undefined));
    try {
      c.executionCtx.waitUntil(done);
    } catch {
      void done;
    }
    return new Response(readable, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "content-encoding": "identity",
        "x-accel-buffering": "no",
      },
    });
  });
  return routes;
}
