/**
 * An in-memory byte connection for the tcp transport's clients: the client end is a
 * Connection (what the HTTP and WebSocket clients take), the peer end is a plain
 * reader/writer a test scripts byte by byte. Every wait is bounded.
 */
import { connectionOf, type Connection } from "../../../relay/transport/tcp/connection.ts";

export interface Peer {
  write(bytes: Uint8Array): Promise<void>;
  /** Ends the peer's sending side (the client then reads end of stream). */
  end(): Promise<void>;
  /** Exactly `n` bytes the client wrote (bounded wait). */
  readExactly(n: number): Promise<Uint8Array>;
  /** Resolves true once the client closed the connection (its writable aborted or closed). */
  clientClosed(): Promise<boolean>;
}

export const WAIT_MS = 2_000;

export function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => {
    if (timer !== undefined) clearTimeout(timer);
  });
}

export function memoryPipe(): { connection: Connection; peer: Peer } {
  const toClient = new TransformStream<Uint8Array, Uint8Array>();
  const toPeer = new TransformStream<Uint8Array, Uint8Array>();
  let closedByClient = false;
  let onClosed: (() => void) | undefined;
  const closed = new Promise<boolean>((resolve) => {
    onClosed = () => resolve(true);
  });
  const connection = connectionOf(toClient.readable, toPeer.writable, async () => {
    closedByClient = true;
    onClosed?.();
  });
  const writer = toClient.writable.getWriter();
  const reader = toPeer.readable.getReader();
  let buffered = new Uint8Array(0);
  return {
    connection,
    peer: {
      write: (bytes) => writer.write(bytes),
      end: () => writer.close(),
      async readExactly(n) {
        while (buffered.length < n) {
          const { done, value } = await within(reader.read(), `${n} bytes from the client`);
          if (done) throw new Error(`client ended after ${buffered.length} of ${n} bytes`);
          const next = new Uint8Array(buffered.length + value.length);
          next.set(buffered, 0);
          next.set(value, buffered.length);
          buffered = next;
        }
        const out = buffered.slice(0, n);
        buffered = buffered.slice(n);
        return out;
      },
      clientClosed: () => (closedByClient ? Promise.resolve(true) : within(closed, "the client to close the connection")),
    },
  };
}

export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function text(data: Uint8Array): string {
  return new TextDecoder().decode(data);
}
