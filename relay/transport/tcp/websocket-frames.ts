/**
 * RFC 6455 §5 framing: encode frames (client side: always masked) and decode the server's
 * frames incrementally. Pure; the decoder holds at most one frame header plus one frame's
 * payload, and refuses a frame larger than its limit from the length field alone, before
 * any of the payload is buffered.
 */

export const OPCODE = {
  continuation: 0x0,
  text: 0x1,
  binary: 0x2,
  close: 0x8,
  ping: 0x9,
  pong: 0xa,
} as const;

export interface Frame {
  readonly fin: boolean;
  readonly opcode: number;
  readonly payload: Uint8Array;
}

/** A violation of the protocol by the peer, with the close code to answer it with. */
export class WebSocketProtocolError extends Error {
  override readonly name = "WebSocketProtocolError";
  readonly closeCode: number;
  constructor(closeCode: number, message: string) {
    super(message);
    this.closeCode = closeCode;
  }
}

export const CLOSE_PROTOCOL_ERROR = 1002;
export const CLOSE_INVALID_DATA = 1007;
export const CLOSE_TOO_BIG = 1009;

export function isControl(opcode: number): boolean {
  return opcode >= 0x8;
}

/**
 * One frame. `mask` is the 4-byte masking key (a client must mask every frame, §5.3);
 * undefined writes an unmasked frame (what a server sends; tests use it).
 */
export function encodeFrame(opcode: number, payload: Uint8Array, fin: boolean, mask: Uint8Array | undefined): Uint8Array {
  const length = payload.length;
  const lengthBytes = length < 126 ? 0 : length <= 0xffff ? 2 : 8;
  const headerLength = 2 + lengthBytes + (mask === undefined ? 0 : 4);
  const out = new Uint8Array(headerLength + length);
  const view = new DataView(out.buffer);
  out[0] = (fin ? 0x80 : 0) | (opcode & 0x0f);
  const maskBit = mask === undefined ? 0 : 0x80;
  if (lengthBytes === 0) {
    out[1] = maskBit | length;
  } else if (lengthBytes === 2) {
    out[1] = maskBit | 126;
    view.setUint16(2, length);
  } else {
    out[1] = maskBit | 127;
    view.setBigUint64(2, BigInt(length));
  }
  if (mask === undefined) {
    out.set(payload, headerLength);
  } else {
    out.set(mask, 2 + lengthBytes);
    for (let i = 0; i < length; i++) out[headerLength + i] = (payload[i] ?? 0) ^ (mask[i & 3] ?? 0);
  }
  return out;
}

/** Close frame payload: 2-byte code + UTF-8 reason, cut to fit the 125-byte control limit. */
export function closePayload(code: number | undefined, reason: string): Uint8Array {
  if (code === undefined) return new Uint8Array(0);
  let bytes = new TextEncoder().encode(reason);
  if (bytes.length > 123) bytes = new TextEncoder().encode(truncateUtf8(reason, 123));
  const out = new Uint8Array(2 + bytes.length);
  new DataView(out.buffer).setUint16(0, code);
  out.set(bytes, 2);
  return out;
}

function truncateUtf8(text: string, maxBytes: number): string {
  let out = "";
  let used = 0;
  for (const ch of text) {
    const size = new TextEncoder().encode(ch).length;
    if (used + size > maxBytes) break;
    out += ch;
    used += size;
  }
  return out;
}

/** Decodes frames from a byte stream, checking what §5.2 and §5.5 require of each frame. */
export class FrameDecoder {
  readonly #maxPayload: number;
  /** Received bytes not yet decoded, as they came: each byte is copied once, into its frame. */
  readonly #chunks: Uint8Array[] = [];
  #length = 0;

  constructor(maxPayload: number) {
    this.#maxPayload = maxPayload;
  }

  push(chunk: Uint8Array): Frame[] {
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#length += chunk.length;
    }
    const frames: Frame[] = [];
    for (;;) {
      const frame = this.#next();
      if (frame === undefined) return frames;
      frames.push(frame);
    }
  }

  #next(): Frame | undefined {
    // A server frame's header is at most 10 bytes (no masking key).
    const b = this.#peek(Math.min(this.#length, 10));
    if (b.length < 2) return undefined;
    const first = b[0] ?? 0;
    const second = b[1] ?? 0;
    const fin = (first & 0x80) !== 0;
    const opcode = first & 0x0f;
    if ((first & 0x70) !== 0) throw new WebSocketProtocolError(CLOSE_PROTOCOL_ERROR, "reserved bits set without an extension");
    if (![0x0, 0x1, 0x2, 0x8, 0x9, 0xa].includes(opcode)) {
      throw new WebSocketProtocolError(CLOSE_PROTOCOL_ERROR, `unknown opcode 0x${opcode.toString(16)}`);
    }
    // §5.1: a server must not mask the frames it sends.
    if ((second & 0x80) !== 0) throw new WebSocketProtocolError(CLOSE_PROTOCOL_ERROR, "masked frame from the server");
    let length = second & 0x7f;
    let at = 2;
    if (length === 126) {
      if (b.length < 4) return undefined;
      length = ((b[2] ?? 0) << 8) | (b[3] ?? 0);
      at = 4;
    } else if (length === 127) {
      if (b.length < 10) return undefined;
      const big = new DataView(b.buffer, b.byteOffset + 2, 8).getBigUint64(0);
      if (big >> 63n !== 0n) throw new WebSocketProtocolError(CLOSE_PROTOCOL_ERROR, "64-bit length with the top bit set");
      length = big > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(big);
      at = 10;
    }
    if (isControl(opcode)) {
      if (!fin) throw new WebSocketProtocolError(CLOSE_PROTOCOL_ERROR, "fragmented control frame");
      if (length > 125) throw new WebSocketProtocolError(CLOSE_PROTOCOL_ERROR, "control frame payload over 125 bytes");
    }
    if (length > this.#maxPayload) {
      throw new WebSocketProtocolError(CLOSE_TOO_BIG, `frame of ${length} bytes exceeds the ${this.#maxPayload}-byte limit`);
    }
    if (this.#length < at + length) return undefined;
    this.#take(at);
    return { fin, opcode, payload: this.#take(length) };
  }

  /** The first `n` bytes (n ≤ what is held), without consuming them. */
  #peek(n: number): Uint8Array {
    const head = this.#chunks[0];
    if (head !== undefined && head.length >= n) return head.subarray(0, n);
    const out = new Uint8Array(n);
    let at = 0;
    for (const chunk of this.#chunks) {
      if (at === n) break;
      const part = chunk.subarray(0, n - at);
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  /** Removes and returns the first `n` bytes (n ≤ what is held), as a copy of its own. */
  #take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const chunk = this.#chunks[0];
      if (chunk === undefined) break;
      const part = chunk.subarray(0, n - at);
      out.set(part, at);
      at += part.length;
      if (part.length === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(part.length);
    }
    this.#length -= n;
    return out;
  }
}
