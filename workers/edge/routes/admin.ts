/**
 * The admin API under /_edge/admin/: pools and origins (admin-pools.ts), one session's
 * record and event log, ending a session (admin-session-end.ts). Three gates, in order:
 * the host must be an admin host (403), the bearer token a configured one (401), and
 * every state change is audited (admin-access.ts, admin-audit.ts).
 */
import { Hono, type MiddlewareHandler } from "hono";
import { sessionStub } from "../../../durable-objects/session/stub.ts";
import { hubStub } from "../../../durable-objects/hub/stub.ts";
import { EdgeError } from "../../../protocols/errors.ts";
import { adminPoolRoutes } from "./admin-pools.ts";
import { adminSessionEndRoutes } from "./admin-session-end.ts";
import { adminTokenInspectRoutes } from "./admin-token-inspect.ts";
import { edgeRuntime } from "../runtime.ts";
import { adminHostAllowed, adminTokens, matchAdminToken, tokenId } from "./admin-access.ts";
import { adminAudit, type AdminEnv } from "./admin-audit.ts";
import { log } from "../../../observability/log.ts";

/** Admin requests on a host that is not an admin host get 403 (admin-access.ts). */
export const adminHost = (): MiddlewareHandler<AdminEnv> =>
  async function adminHost(c, next) {
    const hostname = new URL(c.req.url).hostname;
    if (!adminHostAllowed(c.env.ADMIN_HOSTS, edgeRuntime(c.env).config, hostname)) {
      denied(c.req.method, c.req.url, c.req.header("cf-connecting-ip"), "host");
      throw new EdgeError(403, "forbidden", `the admin API is not served on host ${hostname} (see ADMIN_HOSTS)`);
    }
    await next();
  };

export const adminAuth = (): MiddlewareHandler<AdminEnv> =>
  async function adminAuth(c, next) {
    const tokens = adminTokens(c.env);
    if (tokens.length === 0) {
      throw new EdgeError(401, "unauthorized", "admin API disabled: set the ADMIN_TOKEN (or ADMIN_TOKENS) secret");
    }
    const header = c.req.header("authorization") ?? "";
    const given = /^Bearer\s+/i.test(header) ? header.replace(/^Bearer\s+/i, "").trim() : "";
    const caller = given === "" ? undefined : matchAdminToken(tokens, given);
    if (caller === undefined) {
      denied(c.req.method, c.req.url, c.req.header("cf-connecting-ip"), given === "" ? "no token" : "wrong token");
      throw new EdgeError(401, "unauthorized", "missing or wrong admin token", {
        headers: { "www-authenticate": 'Bearer realm="push-edge admin"' },
      });
    }
    c.set("adminCaller", { token: caller.name, tokenId: await tokenId(caller.token) });
    await next();
  };

/** Refused state changes are logged too (reads are not: scanners would flood the log). */
function denied(method: string, url: string, ip: string | undefined, why: string): void {
  if (method === "GET" || method === "HEAD") return;
  log("admin_denied", { why, who: { ip: ip ?? null }, what: { method, path: new URL(url).pathname } });
}

export function adminRoutes(): Hono<AdminEnv> {
  const admin = new Hono<AdminEnv>();
  admin.use("*", adminHost());
  admin.use("*", adminAuth());
  admin.use("*", adminAudit());

  admin.route("/", adminPoolRoutes());
  admin.route("/", adminSessionEndRoutes());
  admin.route("/", adminTokenInspectRoutes());

  admin.get("/sessions/:sk", async (c) => {
    const sk = c.req.param("sk");
    const view = await sessionStub(c.env, sk).describe();
    if (view.record === undefined) throw new EdgeError(404, "session_not_found", `no session with key ${sk}`);
    return c.json({
      session: view.record,
      openWebSockets: view.openWebSockets,
      openStreams: view.openStreams,
      legs: view.legs,
      activity: view.activity,
      events: view.events,
    });
  });

  // An edge isolate's hub (relay mode `edge`): its legs, sockets and activity. Isolate ids
  // appear in a session's `legs`.
  admin.get("/isolates/:id", async (c) => c.json({ isolate: c.req.param("id"), ...(await hubStub(c.env, c.req.param("id")).describe()) }));

  return admin;
}
