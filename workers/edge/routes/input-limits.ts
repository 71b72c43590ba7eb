/**
 * Where the edge applies its input limits (limits.ts) to an HTTP request: URL and header
 * sizes before anything else looks at the request, and a CR request's body — refused up
 * front when its Content-Length is over the limit, otherwise counted while it streams to
 * the origin. Refusals are told in the request's protocol's words (`failure`): the JSON
 * error of DESIGN.md for plain HTTP and Engine.IO, a TLCP error line for TLCP.
 */
import { bodyTooLarge, limitBody, requestRefusal, type Limits, type LimitedBody } from "../limits.ts";
import type { Failure } from "../protocols/adapter.ts";

/** The URL and headers against the limits; a response when they are over. */
export function refuseOversizedRequest(request: Request, limits: Limits, failure: Failure): Response | undefined {
  const refusal = requestRefusal(request, limits, false);
  return refusal === undefined ? undefined : failure(refusal.status, refusal.code, refusal.message);
}

export type CrBody =
  | { readonly ok: true; readonly limited: LimitedBody | undefined }
  | { readonly ok: false; readonly response: Response };

/**
 * A CR request's body, bounded: refused now when its declared length is over the limit,
 * else wrapped so that it errors (and says so) once more than the limit has streamed.
 */
export function boundedCrBody(request: Request, limits: Limits, failure: Failure): CrBody {
  const declared = requestRefusal(request, limits, true);
  if (declared !== undefined) return { ok: false, response: failure(declared.status, declared.code, declared.message) };
  // A declared length (within the limit) is enforced by the runtime itself: the body cannot
  // be longer. Only a chunked body, of unknown length, has to be counted.
  if (request.body === null || request.headers.has("content-length")) return { ok: true, limited: undefined };
  return { ok: true, limited: limitBody(request.body, limits.bodyBytes) };
}

/** The answer for a CR body that was cut while streaming. */
export function bodyCutResponse(limits: Limits, failure: Failure): Response {
  const refusal = bodyTooLarge(limits);
  return failure(refusal.status, refusal.code, refusal.message);
}
