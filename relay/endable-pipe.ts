/**
 * A streamed body passed on by the runtime itself — a native pipe into an
 * IdentityTransformStream, no JavaScript per chunk — that can still be ended on purpose
 * with a last piece of text (a protocol's "session over" line).
 *
 * Why not RelayedStream (relayed-stream.ts): it pulls every chunk through JavaScript,
 * which in an edge Worker cost ~0.65 ms p50 and ~140 ms p99 per SSE event over the
 * platform's floor (docs/relay-modes.md). Here the chunks never surface in JavaScript;
 * end() aborts the pipe (which also cancels the source, i.e. the origin's answer) and the
 * end text is written to the same writable.
 *
 * The source must be one the pipe's abort can interrupt while it waits for data: an
 * origin answer this Worker fetched itself (or read off its own TCP socket). A body
 * handed over by a Durable Object is not: an aborted pipe from it settles only when the
 * origin's next chunk arrives (measured), so such bodies keep using RelayedStream.
 *
 * What this cannot do that RelayedStream does: see the bytes. The end text is written as
 * it is, so it starts a line of its own only if the origin's last chunk ended one; an end
 * that falls between two halves of one line (a chunk split mid-line, with the next half
 * not yet arrived) runs into that line. Origins write their lines whole, so the window is
 * the time a split line takes to arrive.
 */
import { relayOpened } from "./open-relays.ts";

/**
 * How the stream ended: the origin's answer was complete, the stream was cut (the client
 * went away or the origin's answer failed; the pipe cannot tell which), or end().
 */
export type PipeEnd = "origin" | "client_or_origin" | "edge";

export class EndablePipe {
  readonly body: ReadableStream<Uint8Array>;
  readonly #abort = new AbortController();
  #endText: string | undefined;
  #ending = false;

  /**
   * `head` goes first (the protocol adapter's rewrite of the stream's first line, say);
   * `source` is then piped as it comes. `onDone` runs once, when the stream is over.
   */
  constructor(source: ReadableStream<Uint8Array>, head: Uint8Array | undefined, onDone: (by: PipeEnd) => void) {
    const { readable, writable } = new IdentityTransformStream();
    this.body = readable;
    const released = relayOpened();
    void this.#run(source, head, writable).then((by) => {
      released();
      onDone(by);
    });
  }

  /** Appends `text` (if any) and closes the stream, cancelling the source. A no-op once ending. */
  end(text?: string): void {
    if (this.#ending) return;
    this.#ending = true;
    this.#endText = text;
    this.#abort.abort("session ended");
  }

  async #run(source: ReadableStream<Uint8Array>, head: Uint8Array | undefined, writable: WritableStream<ArrayBuffer | ArrayBufferView>): Promise<PipeEnd> {
    try {
      if (head !== undefined && head.byteLength > 0) {
        const writer = writable.getWriter();
        await writer.write(head);
        writer.releaseLock();
      }
      // preventAbort: an aborted pipe leaves the writable open for the end text;
      // preventClose: the origin's end closes it below, after the same check.
      await source.pipeTo(writable, { preventAbort: true, preventClose: true, signal: this.#abort.signal });
    } catch {
      if (this.#ending) return this.#finish(writable, this.#endText);
      // The client went away (the writable errored, the source is cancelled), or the
      // origin's stream failed: the client sees its stream cut, as from the origin.
      await writable.abort("stream failed").catch(() => undefined);
      await source.cancel().catch(() => undefined);
      return "client_or_origin";
    }
    // The origin ended its answer; an end() that came meanwhile has nothing left to cut.
    this.#ending = true;
    return this.#finish(writable, undefined, "origin");
  }

  async #finish(writable: WritableStream<ArrayBuffer | ArrayBufferView>, text: string | undefined, by: PipeEnd = "edge"): Promise<PipeEnd> {
    const writer = writable.getWriter();
    try {
      if (text !== undefined && text !== "") await writer.write(new TextEncoder().encode(text));
      await writer.close();
    } catch {
      // The client is gone already.
    }
    return by;
  }
}
