/**
 * `POST /_edge/admin/tokens/inspect {"token": "<jws>", "pool"?: "<name>"}`: checks an
 * affinity token exactly as a CR request would (signature by kid, expiry, audience) and
 * says why it fails, for operators chasing a client that is refused (`push-edge token
 * inspect`). The pool defaults to the one the token claims; a claim naming no configured
 * pool fails as `wrong_pool`. A token that does not verify is a 200 answer with
 * `verified: false` — the inspection itself worked. Network binding (`net`) is not
 * checked: the operator asking is not on the client's network. Not audited (it changes
 * nothing, and its body is a client's bearer token). Mounted behind adminAuth by admin.ts.
 */
import { Hono } from "hono";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { EdgeError } from "../../../protocols/errors.ts";
import { edgeRuntime } from "../runtime.ts";
import { verifyAffinityToken } from "../token/verify.ts";
import type { EdgeEnv } from "./sessions.ts";

/** Longer input is no token of ours; refuse it before parsing. */
const MAX_TOKEN_LENGTH = 8192;

export function adminTokenInspectRoutes(): Hono<EdgeEnv> {
  const routes = new Hono<EdgeEnv>();
  routes.post("/tokens/inspect", async function inspectToken(c) {
    const { token, pool } = parseInspectRequest(await c.req.json().catch(() => undefined));
    const runtime = edgeRuntime(c.env);
    const claimed = claimedPool(token);
    const poolName = pool ?? claimed ?? "";
    if (pool !== undefined && !runtime.config.pools.some((p) => p.name === pool)) {
      throw new EdgeError(404, "unknown_pool", `no pool named ${JSON.stringify(pool)}`);
    }
    const base = { pool: poolName === "" ? null : poolName, header: safely(() => decodeProtectedHeader(token)), claims: safely(() => decodeJwt(token)) };
    if (pool === undefined && claimed !== undefined && !runtime.config.pools.some((p) => p.name === claimed)) {
      return c.json({ verified: false, ...base, reason: "wrong_pool", detail: `the token claims pool ${JSON.stringify(claimed)}, which this edge does not serve` });
    }
    const result = await verifyAffinityToken(runtime.keys, token, poolName);
    if (result.ok) {
      const now = Math.floor(Date.now() / 1000);
      return c.json({ verified: true, ...base, kid: result.kid, session: result.claims.sk, origin: result.claims.o, expiresIn: result.claims.exp - now });
    }
    return c.json({ verified: false, ...base, reason: result.reason, detail: result.detail });
  });
  return routes;
}

function parseInspectRequest(raw: unknown): { token: string; pool: string | undefined } {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new EdgeError(400, "bad_request", 'the request body must be a JSON object {"token": "..."}');
  }
  const { token, pool } = raw as { token?: unknown; pool?: unknown };
  if (typeof token !== "string" || token.trim() === "") throw new EdgeError(400, "bad_request", "token: must be a non-empty string");
  if (token.length > MAX_TOKEN_LENGTH) throw new EdgeError(400, "bad_request", `token: longer than ${MAX_TOKEN_LENGTH} characters`);
  if (pool !== undefined && (typeof pool !== "string" || pool === "")) throw new EdgeError(400, "bad_request", "pool: must be a non-empty string");
  return { token: token.trim(), pool };
}

/** The pool the token says it belongs to (unverified; only to pick which audience to check). */
function claimedPool(token: string): string | undefined {
  const aud = safely(() => decodeJwt(token))?.aud;
  return typeof aud === "string" && aud !== "" ? aud : undefined;
}

function safely<T>(decode: () => T): T | null {
  try {
    return decode();
  } catch {
    return null;
  }
}
