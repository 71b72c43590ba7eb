/**
 * The admin API under /_edge/admin/: pools and origins (admin-pools.ts), one session's
 * record and event log, ending a session (admin-session-end.ts). Three gates, in order:
 * the host must be an admin host (403), the bearer token a configured one (401), and
 * every state change is audited (admin-access.ts, admin-audit.ts).
 */
import { Hono, type MiddlewareHandler } from "hono";
import { hubStub } from "../../../durable-objects/hub/stub.ts";
import { EdgeError } from "../../../protocols/errors.ts";
import { adminPoolRoutes } from "./admin-pools.ts";
import { adminSessionEndRoutes } from "./admin-session-end.ts";
import { adminSessionRecordRoutes } from "./admin-session-record.ts";
import { adminTokenInspectRoutes } from "./admin-token-inspect.ts";
import { edgeRuntime } from "../runtime.ts";
import { adminHostAllowed, adminTokens, matchAdminToken, tokenId } from "./admin-access.ts";
import { adminAudit, type AdminEnv } from "./admin-audit.ts";
import { clientNetwork, lockedFor, noteDenied, type DenialWhy } from "./admin-limit.ts";

/** Admin requests on a host that is not an admin host get 403 (admin-access.ts). */
export const adminHost = (): MiddlewareHandler<AdminEnv> =>
  async function adminHost(c, next) {
    const hostname = new URL(c.req.url).hostname;
    if (!adminHostAllowed(c.env.ADMIN_HOSTS, edgeRuntime(c.env).config, hostname)) {
      denied(c.req.raw, "host", false);
      throw new EdgeError(403, "forbidden", `the admin API is not served on host ${hostname} (see ADMIN_HOSTS)`);
    }
    await next();
  };

/**
 * The bearer token gate (401), behind the per-network limit on failures (429 +
 * Retry-After, admin-limit.ts). A configured token shorter than 16 characters is a
 * configuration error (adminTokens), refused at runtime, not only by deploy:check.
 */
export const adminAuth = (): MiddlewareHandler<AdminEnv> =>
  async function adminAuth(c, next) {
    const tokens = adminTokens(c.env);
    if (tokens.length === 0) {
      throw new EdgeError(401, "unauthorized", "admin API disabled: set the ADMIN_TOKEN (or ADMIN_TOKENS) secret");
    }
    const network = clientNetwork(c.req.header("cf-connecting-ip"));
    const wait = lockedFor(network);
    if (wait !== undefined) {
      throw new EdgeError(429, "too_many_requests", "too many failed admin authentications from this network; retry later", {
        headers: { "retry-after": String(wait) },
      });
    }
    const header = c.req.header("authorization") ?? "";
    const given = /^Bearer\s+/i.test(header) ? header.replace(/^Bearer\s+/i, "").trim() : "";
    const caller = given === "" ? undefined : matchAdminToken(tokens, given);
    if (caller === undefined) {
      denied(c.req.raw, given === "" ? "no token" : "wrong token", true);
      throw new EdgeError(401, "unauthorized", "missing or wrong admin token", {
        headers: { "www-authenticate": 'Bearer realm="push-edge admin"' },
      });
    }
    c.set("adminCaller", { token: caller.name, tokenId: await tokenId(caller.token) });
    await next();
  };

/** Every refusal is counted; the log gets them in aggregate per network (admin-limit.ts). */
function denied(request: Request, why: DenialWhy, failed: boolean): void {
  const ip = request.headers.get("cf-connecting-ip");
  noteDenied(clientNetwork(ip ?? undefined), why, { ip }, { method: request.method, path: new URL(request.url).pathname }, failed);
}

export function adminRoutes(): Hono<AdminEnv> {
  const admin = new Hono<AdminEnv>();
  admin.use("*", adminHost());
  admin.use("*", adminAuth());
  admin.use("*", adminAudit());

  admin.route("/", adminPoolRoutes());
  admin.route("/", adminSessionEndRoutes());
  admin.route("/", adminTokenInspectRoutes());
  admin.route("/", adminSessionRecordRoutes());

  // An edge isolate's hub (relay mode `edge`): its legs, sockets and activity. Isolate ids
  // appear in a session's `legs`.
  admin.get("/isolates/:id", async (c) => c.json({ isolate: c.req.param("id"), ...(await hubStub(c.env, c.req.param("id")).describe()) }));

  return admin;
}
