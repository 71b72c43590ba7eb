/**
 * Writes an HTTP/1.1 request on a connection: the head, then the body.
 *
 * Body framing, and why:
 * - no body: nothing, or `Content-Length: 0` for POST/PUT/PATCH (what fetch() sends);
 * - a declared length up to SMALL_BODY_BYTES: the body is read whole and sent with its
 *   *actual* length. Control requests are small, some origins refuse chunked request
 *   bodies, and a protocol adapter that rewrote the body (a session id swapped for the
 *   origin's) may have changed its length while the client's header stayed;
 * - a larger declared length: streamed as it arrives, counted, and the connection is cut
 *   if the count disagrees (a wrong length would desynchronise the origin's parser);
 * - no declared length: streamed with chunked transfer coding.
 */

import { encodeRequestHead } from "./http1-wire.ts";

export const SMALL_BODY_BYTES = 64 * 1024;
const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);

export interface Http1Request {
  readonly method: string;
  /** Path and query, as sent on the request line. */
  readonly target: string;
  /** Headers to send; framing headers (Content-Length, Transfer-Encoding) are the writer's. */
  readonly headers: Headers;
  readonly body: ReadableStream<Uint8Array> | null;
}

type Plan =
  | { readonly framing: "none" | "empty" }
  | { readonly framing: "whole"; readonly bytes: Uint8Array }
  | { readonly framing: "length"; readonly length: number; readonly first: Uint8Array[]; readonly reader: ReadableStreamDefaultReader<Uint8Array> }
  | { readonly framing: "chunked"; readonly first: Uint8Array[]; readonly reader: ReadableStreamDefaultReader<Uint8Array> };

/**
 * Writes the head and the body. Resolves when the last body byte is written; rejects when
 * the body stream fails or its length is wrong (the caller then cuts the connection).
 * The head goes out with the first body bytes where they are at hand: one segment, not a
 * small one followed by another that Nagle's algorithm would hold back.
 */
export async function writeRequest(write: (bytes: Uint8Array) => Promise<void>, request: Http1Request): Promise<void> {
  const plan = await planBody(request);
  const headers = new Headers(request.headers);
  headers.delete("content-length");
  headers.delete("transfer-encoding");
  if (plan.framing === "empty") headers.set("content-length", "0");
  if (plan.framing === "whole") headers.set("content-length", String(plan.bytes.length));
  if (plan.framing === "length") headers.set("content-length", String(plan.length));
  if (plan.framing === "chunked") headers.set("transfer-encoding", "chunked");
  const head = encodeHead(request.method, request.target, headers);

  switch (plan.framing) {
    case "none":
    case "empty":
      await write(head);
      return;
    case "whole":
      await write(join([head, plan.bytes]));
      return;
    case "length": {
      let sent = 0;
      let pendingHead: Uint8Array | undefined = head;
      for await (const chunk of chunksOf(plan.first, plan.reader)) {
        sent += chunk.length;
        if (sent > plan.length) throw new RangeError(`request body longer than its Content-Length ${plan.length}`);
        await write(pendingHead === undefined ? chunk : join([pendingHead, chunk]));
        pendingHead = undefined;
      }
      if (pendingHead !== undefined) await write(pendingHead);
      if (sent !== plan.length) throw new RangeError(`request body of ${sent} bytes, Content-Length said ${plan.length}`);
      return;
    }
    case "chunked": {
      // A body of unknown length may be a stream whose first bytes come late: the origin
      // gets the head now unless bytes are already at hand to go with it.
      let pendingHead: Uint8Array | undefined = head;
      if (plan.first.length === 0) {
        await write(head);
        pendingHead = undefined;
      }
      for await (const chunk of chunksOf(plan.first, plan.reader)) {
        if (chunk.length === 0) continue;
        const framed = join([ascii(`${chunk.length.toString(16)}\r\n`), chunk, ascii("\r\n")]);
        await write(pendingHead === undefined ? framed : join([pendingHead, framed]));
        pendingHead = undefined;
      }
      await write(pendingHead === undefined ? ascii("0\r\n\r\n") : join([pendingHead, ascii("0\r\n\r\n")]));
      return;
    }
  }
}

async function planBody(request: Http1Request): Promise<Plan> {
  const body = request.body;
  if (body === null) return { framing: BODY_METHODS.has(request.method.toUpperCase()) ? "empty" : "none" };
  const declaredText = request.headers.get("content-length");
  const declared = declaredText !== null && /^[0-9]{1,15}$/.test(declaredText.trim()) ? Number(declaredText) : undefined;
  const reader = body.getReader();
  if (declared !== undefined && declared > SMALL_BODY_BYTES) return { framing: "length", length: declared, first: [], reader };
  if (declared === undefined) return { framing: "chunked", first: [], reader };
  // Small declared body: read it all (the client promised this much), up to the cap.
  const first: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { framing: "whole", bytes: join(first) };
    first.push(value);
    total += value.length;
    if (total > SMALL_BODY_BYTES) return { framing: "chunked", first, reader };
  }
}

async function* chunksOf(first: Uint8Array[], reader: ReadableStreamDefaultReader<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* first;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    yield value;
  }
}

/**
 * The request head as bytes (http1-wire.ts): throws Http1RequestRefused, and writes
 * nothing, when a method, target, header name or value is not allowed on the wire.
 */
export function encodeHead(method: string, target: string, headers: Headers): Uint8Array {
  return encodeRequestHead(method, target, headers);
}

/** Framing text we generate ourselves (chunk sizes, CRLF): ASCII, never narrowed. */
export function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) throw new RangeError("ascii() given a non-ASCII character");
    out[i] = code;
  }
  return out;
}

export function join(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
