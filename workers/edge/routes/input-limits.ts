/**
 * Where the edge applies its input limits (limits.ts) to an HTTP request: URL and header
 * sizes before anything else looks at the request, and a CR request's declared body
 * length. (A chunked CR body is counted by the session object as it streams to the
 * origin: relay/body-limit.ts.) Refusals are told in the request's
 * protocol's words (`failure`): the JSON error of docs/architecture.md for plain HTTP and Engine.IO,
 * a TLCP error line for TLCP.
 */
import { declaredBodyTooLarge, requestRefusal, type Limits } from "../../../config/limits.ts";
import type { Failure } from "../../../protocols/adapter.ts";
import { requestHeadProblem } from "../../../relay/transport/tcp/http1-wire.ts";

/**
 * The request's head, read once: each step through a `Headers` crosses into the runtime,
 * and both checks below walk every header.
 */
export type RequestHead = ReadonlyArray<readonly [string, string]>;

export function requestHead(request: Request): RequestHead {
  return [...request.headers];
}

/** The URL and headers against the limits; a response when they are over. */
export function refuseOversizedRequest(request: Request, head: RequestHead, limits: Limits, failure: Failure): Response | undefined {
  const refusal = requestRefusal(request.url, head, limits);
  return refusal === undefined ? undefined : failure(refusal.status, refusal.code, refusal.message);
}

/**
 * A CR request whose Content-Length is over the body limit: refused before any session
 * object is involved. (Its URL and headers went through refuseOversizedRequest first.)
 */
export function declaredBodyRefusal(request: Request, limits: Limits, failure: Failure): Response | undefined {
  const refusal = declaredBodyTooLarge(request, limits);
  return refusal === undefined ? undefined : failure(refusal.status, refusal.code, refusal.message);
}

/**
 * A method, path or header the origin could not be sent byte for byte (a control
 * character, CR or LF inside a value: RFC 9110 §5.5; relay/transport/tcp/http1-wire.ts):
 * refused with 400 before anything else, whichever transport the pool uses (issue 16 F1).
 */
export function refuseUnwritableHead(request: Request, url: URL, head: RequestHead, failure: Failure): Response | undefined {
  const problem = requestHeadProblem(request.method, `${url.pathname}${url.search}`, head);
  if (problem === undefined) return undefined;
  console.warn(JSON.stringify({ event: "request_head_refused", part: problem.part, reason: problem.message }));
  return failure(400, "bad_request", `request refused: ${problem.message}`);
}
