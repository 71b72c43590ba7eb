/**
 * A request the tcp transport cannot write as asked (http1-wire.ts) gets a 400 in the
 * JSON error shape, before any connection to the origin is opened: the origin sees
 * nothing, and the session's origin is not counted as failed for a client's bad bytes.
 * The edge refuses such requests earlier, in the protocol's words
 * (workers/edge/routes/input-limits.ts); this is the writer's own line of defence.
 */
import { errorResponse } from "../../../protocols/errors.ts";
import { requestHeadProblem } from "./http1-wire.ts";

export function requestHeadRefusal(head: { readonly method: string; readonly target: string; readonly headers: Headers }): Response | undefined {
  const problem = requestHeadProblem(head.method, head.target, head.headers);
  if (problem === undefined) return undefined;
  console.warn(JSON.stringify({ event: "request_head_refused", part: problem.part, reason: problem.message }));
  return errorResponse(400, "bad_request", `request refused: ${problem.message}`);
}
