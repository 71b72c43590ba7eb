/**
 * The admin audit log: every state-changing admin request (anything but GET/HEAD: origin
 * add / patch / delete / state, session end), whatever its outcome, becomes one JSON line
 * on the Worker's log — who (the token's name, a hash prefix of the token, the client's
 * address) and what (method, path, the request's JSON body, the answer's status).
 */
import type { MiddlewareHandler } from "hono";
import { log } from "../../../observability/log.ts";
import type { EdgeEnv } from "./sessions.ts";

/** Set by adminAuth once the caller is known. */
export interface AdminCaller {
  readonly token: string;
  readonly tokenId: string;
}

export type AdminEnv = EdgeEnv & { Variables: { adminCaller?: AdminCaller } };

/** Longest request body kept in one audit line. */
const MAX_LOGGED_BODY = 1_000;

export const adminAudit = (): MiddlewareHandler<AdminEnv> =>
  async function adminAudit(c, next) {
    const method = c.req.method;
    // Token inspection changes nothing, and its body is a client's bearer token: not logged.
    if (method === "GET" || method === "HEAD" || c.req.path.endsWith("/tokens/inspect")) return next();
    // Read (and cache, for the handler) the body before the handler runs.
    const body = await c.req.text().catch(() => "");
    await next();
    const caller = c.get("adminCaller");
    log("admin_change", {
      who: {
        token: caller?.token ?? null,
        tokenId: caller?.tokenId ?? null,
        ip: c.req.header("cf-connecting-ip") ?? null,
      },
      what: { method, path: new URL(c.req.url).pathname, body: loggedBody(body) },
      status: c.res.status,
    });
  };

function loggedBody(text: string): unknown {
  if (text === "") return null;
  const short = text.length > MAX_LOGGED_BODY ? `${text.slice(0, MAX_LOGGED_BODY)}…` : text;
  try {
    return JSON.parse(short) as unknown;
  } catch {
    return short;
  }
}
