/**
 * The one `app.onError` of the edge: an EdgeError becomes its JSON error; a configuration
 * error and anything unexpected become a 500 whose public message says nothing about the
 * configuration (F14 of issue 16) — no field, no value, no origin id, no URL: a client
 * learns only that the edge cannot serve. The details go to the log (`config_invalid`
 * with field and message, `internal_error` with the stack) and, for an operator who
 * presents a valid admin token, into the answer itself — so `push-edge status` still
 * says which field to fix.
 */
import type { Context } from "hono";
import { ConfigError } from "../../config/config.ts";
import { log } from "../../observability/log.ts";
import { EdgeError, edgeErrorResponse, errorResponse } from "../../protocols/errors.ts";
import { adminTokens, matchAdminToken, sameSecret } from "./routes/admin-access.ts";
import type { EdgeEnv } from "./routes/sessions.ts";

export const CONFIG_INVALID_MESSAGE = "the edge's configuration is invalid; its operator has been told (log event config_invalid)";

export function edgeOnError(err: Error, c: Context<EdgeEnv>): Response {
  if (err instanceof EdgeError) return edgeErrorResponse(err);
  if (err instanceof ConfigError) {
    log("config_invalid", { field: err.field, message: err.message }, "error");
    const detail = isAdminCaller(c) ? `edge configuration is invalid: ${err.message}` : CONFIG_INVALID_MESSAGE;
    return errorResponse(500, "config_invalid", detail);
  }
  log("internal_error", { message: err.message, stack: err.stack }, "error");
  return errorResponse(500, "internal_error", "the edge failed to handle this request");
}

/**
 * Whether the request carries a configured admin token. The configuration may be what is
 * broken: when ADMIN_TOKENS itself cannot be read, ADMIN_TOKEN alone is compared.
 */
function isAdminCaller(c: Context<EdgeEnv>): boolean {
  const header = c.req.header("authorization") ?? "";
  const match = /^Bearer\s+(.+)$/i.exec(header);
  const given = match?.[1]?.trim() ?? "";
  if (given === "") return false;
  try {
    return matchAdminToken(adminTokens(c.env), given) !== undefined;
  } catch {
    const single = c.env.ADMIN_TOKEN;
    return typeof single === "string" && single !== "" && sameSecret(given, single);
  }
}
