/**
 * The admin API under /_edge/admin/ (Bearer ADMIN_TOKEN): pools and origins
 * (admin-pools.ts), and one session's record and event log.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { sessionStub } from "../../../durable-objects/session/stub.ts";
import { EdgeError } from "../errors.ts";
import { adminPoolRoutes } from "./admin-pools.ts";
import { adminSessionEndRoutes } from "./admin-session-end.ts";
import { adminTokenInspectRoutes } from "./admin-token-inspect.ts";
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

  admin.route("/", adminPoolRoutes());
  admin.route("/", adminSessionEndRoutes());
  admin.route("/", adminTokenInspectRoutes());

  admin.get("/sessions/:sk", async (c) => {
    const sk = c.req.param("sk");
    const view = await sessionStub(c.env, sk).describe();
    if (view.record === undefined) throw new EdgeError(404, "session_not_found", `no session with key ${sk}`);
    return c.json({ session: view.record, openWebSockets: view.openWebSockets, events: view.events });
  });

  return admin;
}
