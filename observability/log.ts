/**
 * Structured logs: one JSON line per event, so Workers Logs / `wrangler tail` / any log
 * pipeline can filter on fields instead of parsing sentences. Every line has `event` and
 * `at`; events about a session carry its key as `sk`, with `pool` and `origin` where known.
 *
 * Events (README "Logs"): session_placed, session_refused, token_refused, relay_error,
 * session_ended, origin_state_changed, registry_failed, config_invalid, internal_error ...
 */

/** Fields of a log line: JSON values (objects allowed, e.g. the admin audit's who/what). */
export type LogFields = { readonly [key: string]: unknown };

export type LogLevel = "info" | "error";

/** Writes one event as one JSON line (console.error for `error`, so tails can split them). */
export function log(event: string, fields: LogFields = {}, level: LogLevel = "info"): void {
  const line = JSON.stringify({ event, at: new Date().toISOString(), ...fields });
  if (level === "error") console.error(line);
  else console.log(line);
}

/** The message of an unknown thrown value, for a log field. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
