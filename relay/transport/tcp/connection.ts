/**
 * One byte connection to an origin as the HTTP and WebSocket clients see it: a source of
 * received chunks (with room to push back bytes a parser read too far) and write(). The
 * clients depend on this, not on `cloudflare:sockets`, so tests can drive them over
 * in-memory streams and the socket code stays in one place (connect.ts).
 */

export class ByteSource {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #unread: Uint8Array[] = [];

  constructor(reader: ReadableStreamDefaultReader<Uint8Array>) {
    this.#reader = reader;
  }

  /** The next bytes, or undefined at the end of the stream. Rejects if the stream fails. */
  async read(): Promise<Uint8Array | undefined> {
    const pushed = this.#unread.shift();
    if (pushed !== undefined) return pushed;
    for (;;) {
      const { done, value } = await this.#reader.read();
      if (done) return undefined;
      // Skip empty chunks: callers treat a read as progress.
      if (value.byteLength > 0) return value;
    }
  }

  /** Puts bytes back in front of the stream (bytes past the end of an HTTP head). */
  unread(bytes: Uint8Array): void {
    if (bytes.length > 0) this.#unread.unshift(bytes);
  }

  cancel(): void {
    this.#unread = [];
    this.#reader.cancel().catch(() => {
      // Already closed or errored: nothing left to cancel.
    });
  }
}

export interface Connection {
  readonly source: ByteSource;
  /** Writes in call order; resolves when these bytes are handed to the transport. */
  write(bytes: Uint8Array): Promise<void>;
  /** Ends the connection both ways, at most once; never throws. */
  close(): void;
}

/**
 * A Connection over a readable/writable pair (a socket, or streams in tests). `prefix`
 * goes out in the same write as the first bytes written: a PROXY header sent as its own
 * tiny segment ahead of the request would meet Nagle's algorithm and the origin's delayed
 * ACK, and the request would wait for it (tens of milliseconds on Linux).
 */
export function connectionOf(
  readable: ReadableStream<Uint8Array>,
  writable: WritableStream<Uint8Array>,
  closeTransport: () => Promise<void> = async () => {},
  prefix?: Uint8Array,
): Connection {
  const source = new ByteSource(readable.getReader());
  const writer = writable.getWriter();
  let pending = prefix;
  let closed = false;
  return {
    source,
    write(bytes) {
      if (pending === undefined) return writer.write(bytes);
      const first = new Uint8Array(pending.length + bytes.length);
      first.set(pending, 0);
      first.set(bytes, pending.length);
      pending = undefined;
      return writer.write(first);
    },
    close() {
      if (closed) return;
      closed = true;
      // The transport first, and the reader and writer only once it has closed: inside a
      // Durable Object, a socket whose reader was cancelled or whose writer was aborted
      // before close() stayed open — in CLOSE_WAIT after the origin hung up, holding a file
      // descriptor and keeping the object awake; a Worker closed them either way. The test
      // against a real tcp stack: test/integration/edge-tcp-sockets-close.test.ts.
      closeTransport()
        .catch(() => {
          // Closing a socket that already went away is not an error worth reporting.
        })
        .finally(() => {
          source.cancel();
          writer.abort().catch(() => {
            // The writable already failed or closed.
          });
        });
    },
  };
}
