/**
 * The one line of TLCP that names a session to the client:
 * `CONOK,<session-id>,<request-limit>,<keep-alive>,<control-link>`. The edge swaps the
 * origin's session id for the affinity token and the control link for `*`, so the client
 * keeps talking to the edge's host name — no per-node host names or certificates. Only
 * that line is touched; everything after it flows through as the origin wrote it.
 */

export interface RewrittenConok {
  readonly line: string;
  readonly originSessionId: string;
}

/** Rewrites a CONOK line (without its CRLF); anything else comes back undefined. */
export function rewriteConok(line: string, token: string): RewrittenConok | undefined {
  if (!line.startsWith("CONOK,")) return undefined;
  const fields = line.split(",");
  const originSessionId = fields[1];
  if (originSessionId === undefined || fields.length < 5) return undefined;
  fields[1] = token;
  fields[4] = "*";
  return { line: fields.join(","), originSessionId };
}

/** Rewrites the CONOK line within a multi-line text (a WebSocket message). */
export function rewriteConokIn(text: string, token: string): { text: string; originSessionId: string } | undefined {
  const lines = text.split("\r\n");
  for (const [i, line] of lines.entries()) {
    const rewritten = rewriteConok(line, token);
    if (rewritten !== undefined) {
      lines[i] = rewritten.line;
      return { text: lines.join("\r\n"), originSessionId: rewritten.originSessionId };
    }
  }
  return undefined;
}

/** Longest first line the edge will wait for before giving up on finding a CONOK in it. */
const MAX_FIRST_LINE = 4096;

/** A stream's first line as the client must see it, and the rest of the stream untouched. */
export interface SplitStream {
  /** The first line (rewritten if it was a CONOK) and whatever else its chunks carried. */
  readonly head: Uint8Array;
  /** The origin's stream after `head`, unread (null when `head` was all of it). */
  readonly rest: ReadableStream<Uint8Array> | null;
  readonly originSessionId: string | undefined;
}

/**
 * Reads a response stream up to its first line and rewrites that line if it is a CONOK.
 * The rest is the origin's own stream, its reader released: the edge can pipe it on
 * natively (relay/endable-pipe.ts), or join it to the head (rewriteFirstLine).
 */
export async function splitFirstLine(body: ReadableStream<Uint8Array>, token: string): Promise<SplitStream> {
  const reader = body.getReader();
  // Bytes, not text: the rest of the first chunk may end inside a multi-byte character.
  let head: Uint8Array<ArrayBuffer> = new Uint8Array(0);
  let done = false;
  let end = -1;
  while (end < 0 && head.length < MAX_FIRST_LINE) {
    const chunk = await reader.read();
    if (chunk.done) {
      done = true;
      break;
    }
    head = concat(head, chunk.value);
    end = indexOfCrlf(head);
  }
  reader.releaseLock();
  const rewritten = end < 0 ? undefined : rewriteConok(new TextDecoder().decode(head.subarray(0, end)), token);
  const first = rewritten === undefined ? head : concat(new TextEncoder().encode(rewritten.line), head.subarray(end));
  return { head: first, rest: done ? null : body, originSessionId: rewritten?.originSessionId };
}

/**
 * splitFirstLine, as one stream: the rewritten head followed by the rest of the origin's
 * stream — read on demand, so back-pressure and chunk timing are the origin's.
 */
export async function rewriteFirstLine(
  body: ReadableStream<Uint8Array>,
  token: string,
): Promise<{ body: ReadableStream<Uint8Array>; originSessionId: string | undefined }> {
  const { head, rest, originSessionId } = await splitFirstLine(body, token);
  const reader = rest?.getReader();
  let sentHead = false;
  const out = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!sentHead) {
        sentHead = true;
        if (head.length > 0) controller.enqueue(head);
        if (reader === undefined) controller.close();
        return;
      }
      const chunk = await reader?.read();
      if (chunk === undefined || chunk.done) controller.close();
      else controller.enqueue(chunk.value);
    },
    cancel(reason) {
      return reader?.cancel(reason);
    },
  });
  return { body: out, originSessionId };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function indexOfCrlf(bytes: Uint8Array): number {
  for (let i = 0; i + 1 < bytes.length; i++) if (bytes[i] === 13 && bytes[i + 1] === 10) return i;
  return -1;
}
