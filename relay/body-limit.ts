/**
 * The CR body limit while the body streams to the origin (config/limits.ts
 * `bodyBytes`), applied here, at the hop that talks to the origin, because of how the
 * runtime ends an upload: a request body stream that *errors* mid-way is sent to the origin
 * as a complete, shorter body (chunked, with its final chunk) — so erroring the stream would
 * hand the origin a truncated request as if it were whole. Instead the count stops passing
 * bytes at the limit and aborts the origin request: the origin sees its connection cut
 * mid-body and acts on nothing. A body with a declared length needs no count (the edge
 * refused it up front if over, and the runtime holds it to its length).
 */
export interface BoundedRelayBody {
  readonly request: Request;
  readonly maxBytes: number;
  /** Aborts the origin request when the body goes over the limit. */
  readonly signal: AbortSignal | undefined;
  exceeded(): boolean;
}

export function boundRelayBody(request: Request, maxBytes: number): BoundedRelayBody {
  if (request.body === null || request.headers.has("content-length")) {
    return { request, maxBytes, signal: undefined, exceeded: () => false };
  }
  const abort = new AbortController();
  let seen = 0;
  const counted = request.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        // Neither passed on nor ended: the origin must not see an end of body, only the cut.
        if (seen > maxBytes) abort.abort(new RangeError(`request body exceeds ${maxBytes} bytes`));
        else controller.enqueue(chunk);
      },
    }),
  );
  return {
    request: new Request(request.url, { method: request.method, headers: request.headers, body: counted }),
    maxBytes,
    signal: abort.signal,
    exceeded: () => abort.signal.aborted,
  };
}

/** `a` and `b` as one signal (either may be absent). */
export function eitherSignal(a: AbortSignal | undefined, b: AbortSignal | undefined): AbortSignal | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return AbortSignal.any([a, b]);
}

/**
 * The answer to a CR request whose streamed body went over the limit: the client's fault,
 * in its protocol's words, and no failure marker — the origin is not to blame.
 */
export async function bodyTooLarge(
  adapter: { failure: (status: number, code: "body_too_large", message: string) => Response },
  outcome: { ok: true; response: Response } | { ok: false; reason: string },
  bounded: BoundedRelayBody,
): Promise<Response> {
  if (outcome.ok) await outcome.response.body?.cancel();
  return adapter.failure(413, "body_too_large", `the request body exceeds ${bounded.maxBytes} bytes`);
}
