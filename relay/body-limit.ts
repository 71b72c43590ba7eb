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
  readonly deadlineMs: number | undefined;
  /** Aborts the origin request when the body goes over the limit or past its deadline. */
  readonly signal: AbortSignal | undefined;
  exceeded(): boolean;
  /** The whole body had not arrived by the deadline (issue 16 F9). */
  timedOut(): boolean;
}

/**
 * `deadlineMs`: how long the whole body may take to arrive (config/limits.ts
 * `bodyReadMs`). Past it the same happens as over the size limit — no more bytes passed,
 * no end of body, the origin request aborted — so a client trickling a body holds the
 * origin's connection no longer than that, and the origin acts on none of it. A body with
 * a declared length keeps it (FixedLengthStream), so the origin sees the same framing.
 * The deadline ends with the body, not with the origin's answer: an origin may answer
 * early (a stream), and a client still trickling its body after the deadline has that
 * answer cut too — it holds the origin's connection no longer than anyone else.
 */
export function boundRelayBody(request: Request, maxBytes: number, deadlineMs?: number): BoundedRelayBody {
  const declared = request.headers.get("content-length");
  const counting = declared === null;
  if (request.body === null || (!counting && deadlineMs === undefined)) {
    return { request, maxBytes, deadlineMs, signal: undefined, exceeded: () => false, timedOut: () => false };
  }
  const abort = new AbortController();
  let seen = 0;
  let overSize = false;
  let late = false;
  const timer = deadlineMs === undefined ? undefined : setTimeout(() => {
    late = true;
    abort.abort(new RangeError(`request body not received within ${deadlineMs} ms`));
  }, deadlineMs);
  const stop = (): void => {
    if (timer !== undefined) clearTimeout(timer);
  };
  const counted = request.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        // Neither passed on nor ended: the origin must not see an end of body, only the cut.
        if (abort.signal.aborted) return;
        if (counting && seen > maxBytes) {
          overSize = true;
          stop();
          abort.abort(new RangeError(`request body exceeds ${maxBytes} bytes`));
        } else controller.enqueue(chunk);
      },
      flush: stop,
    }),
  );
  const length = declared === null ? Number.NaN : Number(declared);
  const body = Number.isSafeInteger(length) && length >= 0 ? counted.pipeThrough(new FixedLengthStream(length)) : counted;
  return {
    request: new Request(request.url, { method: request.method, headers: request.headers, body }),
    maxBytes,
    deadlineMs,
    signal: abort.signal,
    exceeded: () => overSize,
    timedOut: () => late && !overSize,
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

/** The answer to a request whose body did not arrive in time: the client's doing, no failure marker. */
export async function bodyTimedOut(
  adapter: { failure: (status: number, code: "body_timeout", message: string) => Response },
  outcome: { ok: true; response: Response } | { ok: false; reason: string },
  bounded: BoundedRelayBody,
): Promise<Response> {
  if (outcome.ok) await outcome.response.body?.cancel();
  return adapter.failure(408, "body_timeout", `the request body did not arrive within ${bounded.deadlineMs ?? 0} ms`);
}
