/**
 * The edge's own answers for a leg it could not open, marked as the session object marks
 * its own (FAILURE_HEADER), so relay-session.ts turns them into the protocol's words and
 * passive health hears of an unreachable origin.
 */
import { FAILURE_HEADER } from "../../../durable-objects/session/route.ts";
import { log } from "../../../observability/log.ts";

/**
 * Told to the client the way the session object tells an unreachable origin
 * (relay-session.ts), and logged as the object logs its own: with the runtime's words,
 * which the edge's relay_error line (the kind only) does not carry.
 */
export function unreachable(reason: string, sk: string, leg: string): Response {
  log("origin_unreachable", { sk, leg, reason }, "error");
  return new Response(reason, { status: 502, headers: { [FAILURE_HEADER]: "origin_unreachable" } });
}

/** The session ended before the origin answered the leg's request. */
export function sessionEnded(): Response {
  return new Response(null, { status: 404, headers: { [FAILURE_HEADER]: "session_not_found" } });
}
