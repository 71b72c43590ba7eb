// Ending a live session through the edge's admin API, for integration tests, and
// waiting (bounded) for what a real client does about it.

import type { RunningStack } from "../../../infra/local/stack.ts";
import { httpJson, type JsonResponse } from "./http-clients.ts";
import { WAIT_MS, sleep, withTimeout } from "./wait.ts";

/** The session key (`sk` claim) of an affinity token; the signature is the edge's business. */
export function sessionKeyOf(token: string): string {
  const payload = token.split(".")[1];
  if (payload === undefined) throw new Error(`not a JWT: ${token}`);
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { sk?: unknown };
  if (typeof claims.sk !== "string") throw new Error("token without sk");
  return claims.sk;
}

/** POST /_edge/admin/sessions/:sk/end. */
export function endSession(stack: RunningStack, token: string, reason = "drain", detail?: string): Promise<JsonResponse> {
  return httpJson(`${stack.edgeUrl}/_edge/admin/sessions/${encodeURIComponent(sessionKeyOf(token))}/end`, {
    method: "POST",
    headers: { authorization: `Bearer ${stack.adminToken}` },
    body: detail === undefined ? { reason } : { reason, detail },
  });
}

/** GET /_edge/admin/sessions/:sk. */
export function describeSession(stack: RunningStack, token: string): Promise<JsonResponse> {
  return httpJson(`${stack.edgeUrl}/_edge/admin/sessions/${encodeURIComponent(sessionKeyOf(token))}`, {
    headers: { authorization: `Bearer ${stack.adminToken}` },
  });
}

/** Polls `check` until it returns something other than undefined; bounded. */
export function until<T>(check: () => T | undefined, what: string, ms = WAIT_MS): Promise<T> {
  return withTimeout(
    (async () => {
      for (;;) {
        const value = check();
        if (value !== undefined) return value;
        await sleep(20);
      }
    })(),
    ms,
    what,
  );
}
