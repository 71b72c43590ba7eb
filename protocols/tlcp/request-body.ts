/**
 * Reads a TLCP control/bind request body — which the edge must read, because it carries
 * `LS_session` — within the pool's limits: never more than `bodyBytes` held (read chunk by
 * chunk and abandoned at the limit, whatever Content-Length says), and no request line
 * longer than `protocolLineBytes`, and within `bodyReadMs`. Never throws: a body that fails
 * to arrive, or arrives too slowly, is refused too.
 */
import type { EdgeErrorCode } from "../errors.ts";
import { DEFAULT_LIMITS, type Limits } from "../../config/limits.ts";
import { readBodyWithin, type BodyRead } from "../body-read.ts";

export type TlcpBody =
  | { readonly ok: true; readonly body: ArrayBuffer; readonly text: string }
  | { readonly ok: false; readonly code: Extract<EdgeErrorCode, "body_too_large" | "line_too_long" | "bad_request" | "body_timeout">; readonly message: string };

export async function readTlcpBody(request: Request, limits: Limits): Promise<TlcpBody> {
  if (request.body === null) return { ok: true, body: new ArrayBuffer(0), text: "" };
  const tooLarge = { ok: false, code: "body_too_large", message: `request body exceeds ${limits.bodyBytes} bytes` } as const;
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > limits.bodyBytes) {
    await request.body.cancel().catch(() => undefined);
    return tooLarge;
  }
  const bytes = await readAtMost(request.body, limits.bodyBytes, limits.bodyReadMs);
  if (bytes === "too-large") return tooLarge;
  if (bytes === "timeout") return { ok: false, code: "body_timeout", message: `request body not received within ${limits.bodyReadMs} ms` };
  if (bytes === "failed") return { ok: false, code: "bad_request", message: "request body could not be read" };
  if (longestLine(bytes) > limits.protocolLineBytes) {
    return { ok: false, code: "line_too_long", message: `a request line exceeds ${limits.protocolLineBytes} bytes` };
  }
  const text = new TextDecoder().decode(bytes);
  return { ok: true, body: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, text };
}

/** The stream's bytes, or "too-large" once more than `max` arrived (the rest is cancelled). */
export async function readAtMost(stream: ReadableStream<Uint8Array>, max: number, deadlineMs = DEFAULT_LIMITS.bodyReadMs): Promise<BodyRead> {
  return readBodyWithin(stream, max, deadlineMs);
}

/** Bytes in the longest line (LF-separated, a CR before the LF not counted). */
export function longestLine(bytes: Uint8Array): number {
  let longest = 0;
  let start = 0;
  for (;;) {
    const end = bytes.indexOf(10, start);
    const stop = end < 0 ? bytes.length : end;
    const length = stop - start - (stop > start && bytes[stop - 1] === 13 ? 1 : 0);
    if (length > longest) longest = length;
    if (end < 0) return longest;
    start = end + 1;
  }
}
