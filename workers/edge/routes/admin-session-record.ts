/**
 * `GET /_edge/admin/sessions/<sk or token>` (admin host and token): one session's record
 * and event log, from its session object.
 *
 * Ended sessions are kept for their pool's retention, then their objects delete
 * everything (durable-objects/session/store.ts): nothing is left to say the session ever
 * existed. Given the client's affinity token instead of the bare key, the edge can still
 * tell: a token it signed names a session it created, so an empty object behind it means
 * "expired from retention", not "never existed". (The signature is checked, not the
 * expiry: a token outlives nothing here; old tokens are what complaints come with.)
 */
import { Hono } from "hono";
import { decodeJwt } from "jose";
import { sessionStub } from "../../../durable-objects/session/stub.ts";
import { EdgeError } from "../../../protocols/errors.ts";
import { edgeRuntime } from "../runtime.ts";
import { verifyAffinityToken } from "../token/verify.ts";
import type { AdminEnv } from "./admin-audit.ts";

export function adminSessionRecordRoutes(): Hono<AdminEnv> {
  const routes = new Hono<AdminEnv>();
  routes.get("/sessions/:key", async function sessionRecord(c) {
    const key = c.req.param("key");
    const signed = key.includes(".") ? await signedSessionKey(c.env, key) : undefined;
    const sk = signed ?? key;
    const view = await sessionStub(c.env, sk).describe();
    if (view.record !== undefined) {
      return c.json({
        session: view.record,
        openWebSockets: view.openWebSockets,
        openStreams: view.openStreams,
        legs: view.legs,
        activity: view.activity,
        events: view.events,
      });
    }
    const message =
      signed !== undefined
        ? `session ${sk} existed (the token is this edge's) but has expired from retention: ended sessions keep their record and event log for their pool's sessionLifetime.retentionSeconds, then nothing is kept`
        : `no session with key ${sk}: it never existed, or it has expired from retention (ended sessions are kept for their pool's sessionLifetime.retentionSeconds; look up by the client's token to tell which)`;
    throw new EdgeError(404, "session_not_found", message);
  });
  return routes;
}

/** The session key of a token this edge signed (expired or not); a bad token is a 400. */
async function signedSessionKey(env: Env, token: string): Promise<string> {
  let claims: { aud?: unknown; iat?: unknown };
  try {
    claims = decodeJwt(token);
  } catch {
    throw new EdgeError(400, "token_malformed", "not a session key, nor an affinity token");
  }
  const pool = typeof claims.aud === "string" ? claims.aud : "";
  // Verified as of its issue time: the signature, key and audience count, the expiry does not.
  const at = typeof claims.iat === "number" ? claims.iat + 1 : undefined;
  const result = await verifyAffinityToken(edgeRuntime(env).keys, token, pool, at);
  if (!result.ok) throw new EdgeError(400, "token_invalid", `the token does not verify (${result.reason}): ${result.detail}`);
  return result.claims.sk;
}
