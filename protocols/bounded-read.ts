/**
 * Reads the start of a body without ever holding more than a bound: what an adapter needs
 * to parse a protocol line or packet (an Engine.IO open packet) from a stream whose length
 * it does not control. A longer body comes back as a stream of the same bytes, untouched.
 */
export type Prefix =
  /** The whole body, within the bound. */
  | { readonly complete: true; readonly bytes: Uint8Array }
  /** Over the bound: the same bytes, as a stream (those read so far, then the rest). */
  | { readonly complete: false; readonly body: ReadableStream<Uint8Array> };

export async function readPrefix(body: ReadableStream<Uint8Array>, maxBytes: number): Promise<Prefix> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.byteLength;
    if (total > maxBytes) return { complete: false, body: replay(chunks, reader) };
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return { complete: true, bytes };
}

/** The chunks already read, then the rest of the reader, on demand. */
function replay(chunks: Uint8Array[], reader: ReadableStreamDefaultReader<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const held = chunks.shift();
      if (held !== undefined) return controller.enqueue(held);
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}
