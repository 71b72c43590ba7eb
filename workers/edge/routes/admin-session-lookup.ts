/**
 * GET /_edge/admin/sessions?origin_session_id=<id> (admin host and token): the live sessions
 * an origin knows by its own session id (a Lightstreamer or Socket.IO server's log names
 * that id, not the edge's session key) → `{"sessions": [{"sk", "pool", "origin"}]}`.
 *
 * The session registry (durable-objects/registry/) records the id next to each session
 * key, so this asks every shard of every origin of every pool: an operator's lookup, a
 * few dozen small calls, never on a request path. Ended sessions have left the registry
 * and are not found here (their record stays readable by session key for a while).
 */
import { Hono } from "hono";
import { registryStubs } from "../../../durable-objects/registry/registry-stubs.ts";
import { coordinatorStub } from "../../../durable-objects/pool/stub.ts";
import { configHash } from "../balance/pool-view.ts";
import { EdgeError } from "../../../protocols/errors.ts";
import { edgeRuntime } from "../runtime.ts";
import { adminAuth, adminHost } from "./admin.ts";
import type { AdminEnv } from "./admin-audit.ts";

export function adminSessionLookupRoutes(): Hono<AdminEnv> {
  const routes = new Hono<AdminEnv>();
  // Scoped to its own path: this app is mounted beside adminRoutes() under /_edge/admin.
  routes.get("/sessions", adminHost(), adminAuth(), async function sessionsByOriginId(c) {
    const id = c.req.query("origin_session_id") ?? "";
    if (id === "") throw new EdgeError(400, "bad_request", "origin_session_id: required (the origin's own id for the session)");
    const found: Array<{ sk: string; pool: string; origin: string }> = [];
    for (const pool of edgeRuntime(c.env).config.pools) {
      // The coordinator's origins, so origins added at runtime are searched too.
      const snapshot = await coordinatorStub(c.env, pool.name).snapshot(pool, configHash(pool));
      await Promise.all(
        snapshot.origins.map(async (o) => {
          const lists = await Promise.all(registryStubs(c.env, pool.name, o.id).map((shard) => shard.findByOriginSessionId(id)));
          for (const sk of lists.flat()) found.push({ sk, pool: pool.name, origin: o.id });
        }),
      );
    }
    return c.json({ sessions: found });
  });
  return routes;
}
