/**
 * A streamed response body on its way from the origin to the client, which the session
 * object can end on purpose: append a last piece of text (a protocol's "session over"
 * line) and close it, cancelling the origin's stream.
 *
 * It passes chunks through one at a time, as the client reads them: a pull-based stream
 * with no queue of its own (high-water mark 0), so nothing is read ahead of the client and
 * a slow client's back-pressure still reaches the origin. (A TransformStream fed by a pump
 * would hold a chunk in flight and need its writer shared with end(); pulling keeps one
 * owner of the origin's reader.)
 */

import { relayOpened } from "./open-relays.ts";

const LF = 0x0a;

export class RelayedStream {
  readonly body: ReadableStream<Uint8Array>;
  readonly #source: ReadableStreamDefaultReader<Uint8Array>;
  readonly #onDone: () => void;
  /** Counts this stream out of the isolate's open relays (open-relays.ts). */
  readonly #released = relayOpened();
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  #done = false;
  /** Whether the last byte passed on ended a line (true before any). */
  #atLineStart = true;

  /** `onDone` runs once, when the stream is over for any reason (origin end, client gone, end()). */
  constructor(source: ReadableStream<Uint8Array>, onDone: () => void) {
    this.#source = source.getReader();
    this.#onDone = onDone;
    this.body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
        },
        pull: (controller) => this.#pull(controller),
        cancel: async (reason) => {
          // The client went away: let the origin know by cancelling its stream.
          this.#finish();
          await this.#source.cancel(reason).catch(() => {});
        },
      },
      { highWaterMark: 0 },
    );
  }

  async #pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await this.#source.read();
    } catch (err) {
      if (this.#done) return;
      this.#finish();
      controller.error(err);
      return;
    }
    // end() ran while this read was waiting: the stream is already closed.
    if (this.#done) return;
    if (chunk.done) {
      this.#finish();
      controller.close();
      return;
    }
    const bytes = chunk.value;
    if (bytes.byteLength > 0) this.#atLineStart = bytes[bytes.byteLength - 1] === LF;
    controller.enqueue(bytes);
  }

  /**
   * Appends `text` (if any) and closes the stream; the origin's stream is cancelled. A
   * no-op once the stream is over. Text goes on a line of its own: if the origin's last
   * chunk stopped mid-line, a CRLF comes first, so a line-based protocol's client still
   * reads the text as one whole line.
   */
  end(text?: string): void {
    if (this.#done) return;
    this.#finish();
    const controller = this.#controller;
    try {
      if (text !== undefined && text !== "") {
        controller?.enqueue(new TextEncoder().encode(this.#atLineStart ? text : `\r\n${text}`));
      }
      controller?.close();
    } catch {
      // The client side is already closed or errored.
    }
    this.#source.cancel("session ended").catch(() => {});
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#released();
    this.#onDone();
  }
}
