/**
 * The admin API under /_edge/admin/ (Bearer ADMIN_TOKEN). This isolate's pool view and
 * one session's record and event log. Origin state changes (drain/block) need the pool
 * coordinator, which owns state across isolates.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { sessionStub } from "../../../durable-objects/session/stub.ts";
import { loadOf } from "../balance/pick.ts";
import { poolView } from "../balance/pool-view.ts";
import { EdgeError } from "../errors.ts";
import { adminSessionEndRoutes } from "./admin-session-end.ts";
import { edgeRuntime } from "../runtime.ts";
import type { EdgeEnv } from "./sessions.ts";

/** Constant-time comparison, so the token cannot be guessed byte by byte from timings. */
function sameSecret(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

export const adminAuth = (): MiddlewareHandler<EdgeEnv> =>
  async function adminAuth(c, next) {
    const expected = c.env.ADMIN_TOKEN;
    if (expected === undefined || expected === "") {
      throw new EdgeError(401, "unauthorized", "admin API disabled: set the ADMIN_TOKEN secret");
    }
    const given = c.req.header("authorization")?.replace(/^Bearer\s+/i, "") ?? "";
    if (!sameSecret(given, expected)) {
      throw new EdgeError(401, "unauthorized", "missing or wrong admin token", {
        headers: { "www-authenticate": 'Bearer realm="push-edge admin"' },
      });
    }
    await next();
  };

export function adminRoutes(): Hono<EdgeEnv> {
  const admin = new Hono<EdgeEnv>();
  admin.use("*", adminAuth());
  admin.route("/", adminSessionEndRoutes());

  admin.get("/pool", async (c) => {
    const { config } = edgeRuntime(c.env);
    const pools = await Promise.all(
      config.pools.map(async (pool) => {
        const view = poolView(pool);
        if (view.isStale(Date.now())) await view.refresh();
        return {
          name: pool.name,
          hosts: pool.hosts,
          origins: view.statuses().map((s) => {
            const sessions = s.reportedSessions + s.placedSinceReport;
            return {
              id: s.id,
              url: s.url,
              weight: s.weight,
              healthy: s.healthy,
              state: s.state,
              sessions,
              capacity: s.capacity,
              load: loadOf({ id: s.id, weight: s.weight, sessions, capacity: s.capacity, eligible: s.healthy }),
              checkedAt: s.checkedAt,
              lastError: s.lastError ?? null,
            };
          }),
        };
      }),
    );
    return c.json({ pools });
  });

  admin.get("/sessions/:sk", async (c) => {
    const sk = c.req.param("sk");
    const view = await sessionStub(c.env, sk).describe();
    if (view.record === undefined) throw new EdgeError(404, "session_not_found", `no session with key ${sk}`);
    return c.json({ session: view.record, openWebSockets: view.openWebSockets, events: view.events });
  });

  return admin;
}
