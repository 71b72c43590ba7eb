/**
 * An RFC 6455 client endpoint over a Connection whose handshake is done: it reassembles
 * fragmented messages (control frames may arrive between fragments), answers pings with
 * pongs, runs the close handshake both ways, and refuses messages over a size limit with
 * close 1009. Every frame it sends is masked with a fresh key (§5.3).
 *
 * It never throws at its caller: protocol errors by the server end the connection with
 * the matching close code, and `onClose` reports every ending exactly once.
 *
 * It counts the bytes its socket has not taken yet (`queuedBytes`: a server that does not
 * read leaves them queued in this process), can stop reading the server (`pause()`, so
 * the server meets TCP back-pressure), and once the WebSocket is over it drops the
 * connection within `closeTimeoutMs` even when queued frames cannot go out, which frees them.
 */
import type { Connection } from "./connection.ts";
import {
  CLOSE_INVALID_DATA,
  CLOSE_PROTOCOL_ERROR,
  CLOSE_TOO_BIG,
  FrameDecoder,
  OPCODE,
  WebSocketProtocolError,
  closePayload,
  encodeFrame,
  type Frame,
} from "./websocket-frames.ts";

export interface TcpWebSocketHandlers {
  onMessage(data: string | ArrayBuffer): void;
  /**
   * Once, when the WebSocket is over: the server's close code and reason, the code we
   * failed the connection with, or 1006 when the connection ended without a close frame.
   */
  onClose(code: number, reason: string): void;
}

export interface TcpWebSocketOptions {
  /** Largest message (all fragments together) accepted from the server. */
  readonly maxMessageBytes: number;
  /** How long to wait for the server's close frame after sending ours. */
  readonly closeTimeoutMs: number;
}

/** Cloudflare's limit for a WebSocket message a Worker receives; larger ones could not be relayed anyway. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;
export const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;
/** 1005 "no status" is what a close frame without a code means; it is reported, never sent. */
const NO_STATUS = 1005;
const ABNORMAL = 1006;

export class TcpWebSocket {
  readonly #connection: Connection;
  readonly #handlers: TcpWebSocketHandlers;
  readonly #options: TcpWebSocketOptions;
  readonly #decoder: FrameDecoder;
  /** The data message being reassembled: its opcode and fragments so far. */
  #partial: { opcode: number; fragments: Uint8Array[]; size: number } | undefined;
  #closeSent = false;
  #finished = false;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  /** The last frame written: writes keep their order, so when it settles all have. */
  #lastWrite: Promise<void> = Promise.resolve();
  /** Bytes of frames handed to the connection whose write has not settled. */
  #queued = 0;
  /** While paused: the read loop waits on this; `#unpause` lets it go. */
  #paused: Promise<void> | undefined;
  #unpause: (() => void) | undefined;

  constructor(connection: Connection, handlers: TcpWebSocketHandlers, options: Partial<TcpWebSocketOptions> = {}) {
    this.#connection = connection;
    this.#handlers = handlers;
    this.#options = {
      maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      closeTimeoutMs: options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS,
    };
    this.#decoder = new FrameDecoder(this.#options.maxMessageBytes);
  }

  /** Starts reading the server's frames. */
  start(): void {
    void this.#readLoop().catch(() => this.#finish(ABNORMAL, "connection failed"));
  }

  send(data: string | ArrayBuffer | ArrayBufferView): void {
    if (this.#closeSent || this.#finished) return;
    if (typeof data === "string") this.#write(OPCODE.text, new TextEncoder().encode(data));
    else if (data instanceof ArrayBuffer) this.#write(OPCODE.binary, new Uint8Array(data));
    else this.#write(OPCODE.binary, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }

  /** Bytes sent that the connection has not taken yet (the server is not reading them). */
  get queuedBytes(): number {
    return this.#queued;
  }

  /** Stops reading the server's frames until resume(); a chunk already read waits unparsed. */
  pause(): void {
    if (this.#paused !== undefined || this.#finished) return;
    this.#paused = new Promise((resolve) => {
      this.#unpause = resolve;
    });
  }

  resume(): void {
    const unpause = this.#unpause;
    this.#paused = undefined;
    this.#unpause = undefined;
    unpause?.();
  }

  ping(payload: Uint8Array = new Uint8Array(0)): void {
    if (!this.#closeSent && !this.#finished) this.#write(OPCODE.ping, payload);
  }

  /**
   * Starts the close handshake: sends our close frame and waits (bounded) for the server's
   * before ending the connection. `code` undefined sends a close frame without a code.
   */
  close(code?: number, reason = ""): void {
    if (this.#closeSent || this.#finished) return;
    this.#closeSent = true;
    this.#write(OPCODE.close, closePayload(code, reason));
    this.#closeTimer = setTimeout(() => this.#finish(code ?? NO_STATUS, reason), this.#options.closeTimeoutMs);
  }

  async #readLoop(): Promise<void> {
    while (!this.#finished) {
      if (this.#paused !== undefined) {
        await this.#paused;
        continue;
      }
      const chunk = await this.#connection.source.read();
      if (chunk === undefined) {
        this.#finish(ABNORMAL, "connection closed without a close frame");
        return;
      }
      // Paused while the read was pending: the chunk waits, unparsed, for resume().
      if (this.#paused !== undefined) {
        this.#connection.source.unread(chunk);
        continue;
      }
      let frames: Frame[];
      try {
        frames = this.#decoder.push(chunk);
        for (const frame of frames) {
          this.#handle(frame);
          if (this.#finished) return;
        }
      } catch (err) {
        if (!(err instanceof WebSocketProtocolError)) throw err;
        this.#fail(err.closeCode, err.message);
        return;
      }
    }
  }

  #handle(frame: Frame): void {
    switch (frame.opcode) {
      case OPCODE.ping:
        // A pong answers the most recent ping; none once our close has gone out (§5.5.2/§5.5.1).
        if (!this.#closeSent) this.#write(OPCODE.pong, frame.payload);
        return;
      case OPCODE.pong:
        return;
      case OPCODE.close:
        this.#closeReceived(frame.payload);
        return;
      case OPCODE.text:
      case OPCODE.binary:
        if (this.#partial !== undefined) throw new WebSocketProtocolError(CLOSE_PROTOCOL_ERROR, "new message inside a fragmented one");
        this.#partial = { opcode: frame.opcode, fragments: [], size: 0 };
        this.#fragment(frame);
        return;
      case OPCODE.continuation:
        if (this.#partial === undefined) throw new WebSocketProtocolError(CLOSE_PROTOCOL_ERROR, "continuation without a message");
        this.#fragment(frame);
        return;
    }
  }

  #fragment(frame: Frame): void {
    const partial = this.#partial;
    if (partial === undefined) return;
    partial.size += frame.payload.length;
    if (partial.size > this.#options.maxMessageBytes) {
      throw new WebSocketProtocolError(CLOSE_TOO_BIG, `message exceeds the ${this.#options.maxMessageBytes}-byte limit`);
    }
    partial.fragments.push(frame.payload);
    if (!frame.fin) return;
    this.#partial = undefined;
    const bytes = joinBytes(partial.fragments, partial.size);
    if (partial.opcode === OPCODE.binary) {
      const copy = new Uint8Array(bytes.length);
      copy.set(bytes);
      this.#deliver(copy.buffer);
      return;
    }
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch {
      throw new WebSocketProtocolError(CLOSE_INVALID_DATA, "text message is not valid UTF-8");
    }
    this.#deliver(text);
  }

  #deliver(data: string | ArrayBuffer): void {
    if (this.#closeSent) return; // §5.5.1: after our close, data is discarded.
    try {
      this.#handlers.onMessage(data);
    } catch {
      // A handler's failure is the relay's business; it must not break the framing.
    }
  }

  #closeReceived(payload: Uint8Array): void {
    if (payload.length === 1) throw new WebSocketProtocolError(CLOSE_PROTOCOL_ERROR, "close frame with a 1-byte payload");
    let code = NO_STATUS;
    let reason = "";
    if (payload.length >= 2) {
      code = (payload[0] ?? 0) * 256 + (payload[1] ?? 0);
      if (!isValidReceivedCode(code)) throw new WebSocketProtocolError(CLOSE_PROTOCOL_ERROR, `invalid close code ${code}`);
      try {
        reason = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(payload.subarray(2));
      } catch {
        throw new WebSocketProtocolError(CLOSE_INVALID_DATA, "close reason is not valid UTF-8");
      }
    }
    // Echo the code back (§5.5.1) unless this frame answers our own close.
    if (!this.#closeSent) {
      this.#closeSent = true;
      this.#write(OPCODE.close, closePayload(code === NO_STATUS ? undefined : code, ""));
    }
    this.#finish(code, reason);
  }

  /** The server broke the protocol: tell it why, then drop the connection. */
  #fail(code: number, reason: string): void {
    if (!this.#closeSent) {
      this.#closeSent = true;
      this.#write(OPCODE.close, closePayload(code, reason));
    }
    this.#finish(code, reason);
  }

  #finish(code: number, reason: string): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#closeTimer !== undefined) clearTimeout(this.#closeTimer);
    this.resume();
    // Frames queued before this (our close frame) still go out: the connection is closed
    // once the last of them is written — or, when the server does not take them, after
    // closeTimeoutMs, which drops them and frees them.
    const drop = setTimeout(() => this.#connection.close(), this.#options.closeTimeoutMs);
    const close = (): void => {
      clearTimeout(drop);
      this.#connection.close();
    };
    void this.#lastWrite.then(close, close);
    try {
      this.#handlers.onClose(code, reason);
    } catch {
      // See #deliver.
    }
  }

  #write(opcode: number, payload: Uint8Array): void {
    const frame = encodeFrame(opcode, payload, true, crypto.getRandomValues(new Uint8Array(4)));
    const written = this.#connection.write(frame);
    this.#lastWrite = written;
    this.#queued += frame.length;
    void written.then(
      () => {
        this.#queued -= frame.length;
      },
      () => {
        this.#queued -= frame.length;
        this.#finish(ABNORMAL, "connection failed");
      },
    );
  }
}

/** §7.4: codes a peer may send. 1005, 1006 and 1015 are for reporting only. */
function isValidReceivedCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

function joinBytes(parts: readonly Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1 && parts[0] !== undefined) return parts[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
