/**
 * An incremental HTTP/1.1 response parser (RFC 9112): feed it bytes as the socket delivers
 * them, get back the response head and body bytes as soon as they can be known. Body bytes
 * are handed out the moment they arrive — half a chunk of a chunked body is not held back
 * waiting for the other half — so the relay adds no buffering of its own.
 *
 * Pure: no I/O, no timers. Every malformed input ends in an Http1ParseError with a reason;
 * every input that is a prefix of a valid response asks for more. Memory is bounded: only
 * the head (≤ maxHeadBytes) and one chunk-size or trailer line are ever held.
 */
import { Http1ParseError, bodyFraming, contentLength, fail, parseHead, type BodyFraming, type ResponseHead } from "./http1-head.ts";

export { Http1ParseError, type ResponseHead } from "./http1-head.ts";

export type ParseEvent =
  | { readonly kind: "head"; readonly head: ResponseHead }
  | { readonly kind: "body"; readonly bytes: Uint8Array }
  /** The message is complete. `rest` holds bytes after it (a 101's WebSocket frames). */
  | { readonly kind: "end"; readonly rest: Uint8Array };

export const DEFAULT_MAX_HEAD_BYTES = 64 * 1024;
/** A chunk-size line (with extensions) or one trailer line longer than this is refused. */
const MAX_LINE_BYTES = 8 * 1024;

type State =
  | { kind: "head" }
  | { kind: "length"; remaining: number }
  | { kind: "chunk-size" }
  | { kind: "chunk-data"; remaining: number }
  | { kind: "chunk-crlf" }
  | { kind: "trailers" }
  | { kind: "close" }
  | { kind: "done" };

export class Http1ResponseParser {
  readonly #headRequest: boolean;
  readonly #maxHeadBytes: number;
  #state: State = { kind: "head" };
  /** Bytes received but not yet consumed (a partial head or line). */
  #pending: Uint8Array = new Uint8Array(0);
  #framing: BodyFraming | undefined;
  #contentLength: number | undefined;

  constructor(options: { requestMethod: string; maxHeadBytes?: number }) {
    this.#headRequest = options.requestMethod.toUpperCase() === "HEAD";
    this.#maxHeadBytes = options.maxHeadBytes ?? DEFAULT_MAX_HEAD_BYTES;
  }

  /** How the body of the current response is delimited, once its head is parsed. */
  get framing(): BodyFraming | undefined {
    return this.#framing;
  }

  /** The declared body length, when the body is Content-Length framed. */
  get contentLength(): number | undefined {
    return this.#contentLength;
  }

  get done(): boolean {
    return this.#state.kind === "done";
  }

  /** Consumes `chunk`; returns what it completed. Throws Http1ParseError on bad input. */
  push(chunk: Uint8Array): ParseEvent[] {
    if (this.#state.kind === "done") throw new Http1ParseError("bytes after the end of the response");
    let input = this.#pending.length === 0 ? chunk : concat(this.#pending, chunk);
    this.#pending = new Uint8Array(0);
    const events: ParseEvent[] = [];
    while (input.length > 0 && !this.done) {
      const used = this.#step(input, events);
      if (used === 0) {
        this.#pending = input;
        return events;
      }
      input = input.subarray(used);
    }
    if (this.done) events.push({ kind: "end", rest: input.slice() });
    return events;
  }

  /** The connection ended. Completes a close-delimited body; anything else unfinished is an error. */
  finish(): ParseEvent[] {
    switch (this.#state.kind) {
      case "done":
        return [];
      case "close":
        this.#state = { kind: "done" };
        return [{ kind: "end", rest: new Uint8Array(0) }];
      case "head":
        throw new Http1ParseError(
          this.#pending.length === 0 ? "connection closed before a response" : "connection closed inside the response head",
        );
      case "length":
        throw new Http1ParseError(`connection closed ${this.#state.remaining} bytes before the end of the body`);
      default:
        throw new Http1ParseError("connection closed inside a chunked body");
    }
  }

  /** One step of the state machine over `input`; returns bytes consumed (0: need more). */
  #step(input: Uint8Array, events: ParseEvent[]): number {
    const state = this.#state;
    switch (state.kind) {
      case "head":
        return this.#head(input, events);
      case "length": {
        const n = Math.min(state.remaining, input.length);
        events.push({ kind: "body", bytes: input.slice(0, n) });
        this.#state = state.remaining === n ? { kind: "done" } : { kind: "length", remaining: state.remaining - n };
        return n;
      }
      case "close":
        events.push({ kind: "body", bytes: input.slice() });
        return input.length;
      case "chunk-size":
        return this.#chunkSize(input);
      case "chunk-data": {
        const n = Math.min(state.remaining, input.length);
        events.push({ kind: "body", bytes: input.slice(0, n) });
        this.#state = state.remaining === n ? { kind: "chunk-crlf" } : { kind: "chunk-data", remaining: state.remaining - n };
        return n;
      }
      case "chunk-crlf": {
        if (input.length < 2) return input[0] === 0x0d ? 0 : fail("chunk data not followed by CRLF");
        if (input[0] !== 0x0d || input[1] !== 0x0a) fail("chunk data not followed by CRLF");
        this.#state = { kind: "chunk-size" };
        return 2;
      }
      case "trailers":
        return this.#trailer(input);
      case "done":
        return 0;
    }
  }

  #head(input: Uint8Array, events: ParseEvent[]): number {
    const end = indexOfCrlfCrlf(input);
    if (end === -1) {
      if (input.length > this.#maxHeadBytes) fail(`response head exceeds ${this.#maxHeadBytes} bytes`);
      return 0;
    }
    if (end + 4 > this.#maxHeadBytes) fail(`response head exceeds ${this.#maxHeadBytes} bytes`);
    const head = parseHead(latin1(input.subarray(0, end)));
    const used = end + 4;
    // Interim responses (100 Continue, 103 Early Hints) precede the real one: skip them.
    if (head.status >= 100 && head.status < 200 && head.status !== 101) return used;
    events.push({ kind: "head", head });
    this.#framing = bodyFraming(head, this.#headRequest);
    switch (this.#framing) {
      case "none":
        this.#state = { kind: "done" };
        break;
      case "length": {
        const length = contentLength(head);
        this.#contentLength = length;
        this.#state = length === 0 ? { kind: "done" } : { kind: "length", remaining: length };
        break;
      }
      case "chunked":
        this.#state = { kind: "chunk-size" };
        break;
      case "close":
        this.#state = { kind: "close" };
        break;
    }
    return used;
  }

  #chunkSize(input: Uint8Array): number {
    const end = indexOfCrlf(input);
    if (end === -1) {
      if (input.length > MAX_LINE_BYTES) fail("chunk-size line too long");
      return 0;
    }
    const line = latin1(input.subarray(0, end));
    // chunk-size [ ; extensions ]: extensions carry nothing we use and are ignored.
    const match = /^([0-9A-Fa-f]{1,12})[ \t]*(?:;.*)?$/.exec(line);
    if (match?.[1] === undefined) fail(`malformed chunk-size line ${JSON.stringify(line.slice(0, 40))}`);
    const size = parseInt(match[1], 16);
    this.#state = size === 0 ? { kind: "trailers" } : { kind: "chunk-data", remaining: size };
    return end + 2;
  }

  #trailer(input: Uint8Array): number {
    const end = indexOfCrlf(input);
    if (end === -1) {
      if (input.length > MAX_LINE_BYTES) fail("trailer line too long");
      return 0;
    }
    // Trailer fields are read and dropped: the response head has already gone to the client.
    if (end === 0) this.#state = { kind: "done" };
    else if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:/.test(latin1(input.subarray(0, end)))) fail("malformed trailer field");
    return end + 2;
  }
}

function indexOfCrlf(bytes: Uint8Array): number {
  for (let i = 0; i + 1 < bytes.length; i++) if (bytes[i] === 0x0d && bytes[i + 1] === 0x0a) return i;
  return -1;
}

function indexOfCrlfCrlf(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 0x0d && bytes[i + 1] === 0x0a && bytes[i + 2] === 0x0d && bytes[i + 3] === 0x0a) return i;
  }
  return -1;
}

export function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 4096) s += String.fromCharCode(...bytes.subarray(i, i + 4096));
  return s;
}

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
