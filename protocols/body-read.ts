/**
 * Reads a request body whole at the edge — what an adapter (TLCP) or the S path (a body
 * kept to be sent again) must do — within a byte bound and a deadline: never more than
 * `maxBytes` held, and never waiting longer than `deadlineMs` for the rest (issue 16 F9).
 * On either, the body is cancelled, so a client trickling bytes holds nothing. Never throws.
 */
export type BodyRead = Uint8Array | "too-large" | "timeout" | "failed";

export async function readBodyWithin(stream: ReadableStream<Uint8Array>, maxBytes: number, deadlineMs: number): Promise<BodyRead> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    // A pending read() settles (done or rejected) once the stream is cancelled.
    reader.cancel(new Error(`request body not received within ${deadlineMs} ms`)).catch(() => undefined);
  }, deadlineMs);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (timedOut) return "timeout";
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        return "too-large";
      }
      chunks.push(value);
    }
  } catch {
    return timedOut ? "timeout" : "failed";
  } finally {
    clearTimeout(timer);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}
