/**
 * The tcp transport's RFC 6455 client, inside workerd, against a scripted server over an
 * in-memory connection. The server side is written here from the RFC (not with the
 * client's own decoder), so the two check each other.
 */
import { describe, expect, it } from "vitest";
import { TcpWebSocket } from "../../relay/transport/tcp/websocket-client.ts";
import { bytes, memoryPipe, text, within, type Peer } from "./support/memory-pipe.ts";

const TEXT = 0x1;
const BINARY = 0x2;
const CONTINUATION = 0x0;
const CLOSE = 0x8;
const PING = 0x9;
const PONG = 0xa;

/** A frame as a server sends it: unmasked. */
function serverFrame(opcode: number, payload: Uint8Array, fin = true, masked = false): Uint8Array {
  const n = payload.length;
  const ext = n < 126 ? 0 : n <= 0xffff ? 2 : 8;
  const maskBytes = masked ? 4 : 0;
  const out = new Uint8Array(2 + ext + maskBytes + n);
  out[0] = (fin ? 0x80 : 0) | opcode;
  out[1] = (masked ? 0x80 : 0) | (ext === 0 ? n : ext === 2 ? 126 : 127);
  if (ext === 2) new DataView(out.buffer).setUint16(2, n);
  if (ext === 8) new DataView(out.buffer).setBigUint64(2, BigInt(n));
  out.set(payload, 2 + ext + maskBytes);
  return out;
}

function closeBody(code: number, reason: string): Uint8Array {
  const r = bytes(reason);
  const out = new Uint8Array(2 + r.length);
  new DataView(out.buffer).setUint16(0, code);
  out.set(r, 2);
  return out;
}

interface ClientFrame {
  fin: boolean;
  opcode: number;
  masked: boolean;
  /** 0, 126 or 127: which length form the client used. */
  lengthForm: number;
  payload: Uint8Array;
}

/** Reads one frame the client sent, unmasking it (RFC 6455 §5.2/§5.3). */
async function readClientFrame(peer: Peer): Promise<ClientFrame> {
  const [b0 = 0, b1 = 0] = await peer.readExactly(2);
  const lengthForm = b1 & 0x7f;
  let length = lengthForm;
  if (lengthForm === 126) length = new DataView((await peer.readExactly(2)).buffer).getUint16(0);
  if (lengthForm === 127) length = Number(new DataView((await peer.readExactly(8)).buffer).getBigUint64(0));
  const masked = (b1 & 0x80) !== 0;
  const mask = masked ? await peer.readExactly(4) : new Uint8Array(4);
  const payload = await peer.readExactly(length);
  for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] ?? 0) ^ (mask[i % 4] ?? 0);
  return { fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, masked, lengthForm, payload };
}

function openClient(options: { maxMessageBytes?: number; closeTimeoutMs?: number } = {}) {
  const { connection, peer } = memoryPipe();
  const messages: Array<string | ArrayBuffer> = [];
  const waiters: Array<() => void> = [];
  let closed: ((v: { code: number; reason: string }) => void) | undefined;
  const closedWith = new Promise<{ code: number; reason: string }>((resolve) => (closed = resolve));
  const ws = new TcpWebSocket(
    connection,
    {
      onMessage(data) {
        messages.push(data);
        waiters.shift()?.();
      },
      onClose(code, reason) {
        closed?.({ code, reason });
      },
    },
    { closeTimeoutMs: 1_000, ...options },
  );
  ws.start();
  const nextMessage = async (): Promise<string | ArrayBuffer> => {
    if (messages.length === 0) await within(new Promise<void>((r) => waiters.push(r)), "a message from the client");
    const m = messages.shift();
    if (m === undefined) throw new Error("no message");
    return m;
  };
  return { ws, peer, nextMessage, closed: () => within(closedWith, "the WebSocket to close"), messages };
}

function payloadOf(size: number): Uint8Array {
  return Uint8Array.from({ length: size }, (_, i) => (i * 7 + 3) & 0xff);
}

describe("tcp WebSocket client: payload sizes and length forms", () => {
  for (const size of [0, 125, 126, 65535, 65536]) {
    it(`receives and sends a ${size}-byte binary message intact`, async () => {
      const { ws, peer, nextMessage } = openClient({ maxMessageBytes: 128 * 1024 });
      const payload = payloadOf(size);
      await peer.write(serverFrame(BINARY, payload));
      const got = await nextMessage();
      expect(got).toBeInstanceOf(ArrayBuffer);
      expect(new Uint8Array(got as ArrayBuffer)).toEqual(payload);

      ws.send(payload);
      const frame = await readClientFrame(peer);
      expect(frame).toMatchObject({ fin: true, opcode: BINARY, masked: true, lengthForm: size < 126 ? size : size <= 0xffff ? 126 : 127 });
      expect(frame.payload).toEqual(payload);
    });
  }

  it("keeps text as text, UTF-8 intact", async () => {
    const { ws, peer, nextMessage } = openClient();
    await peer.write(serverFrame(TEXT, bytes("héllo ✓")));
    expect(await nextMessage()).toBe("héllo ✓");
    ws.send("répons ✓");
    const frame = await readClientFrame(peer);
    expect(frame.opcode).toBe(TEXT);
    expect(text(frame.payload)).toBe("répons ✓");
  });
});

describe("tcp WebSocket client: fragmentation and control frames", () => {
  it("reassembles a fragmented text message, a character split across fragments", async () => {
    const { peer, nextMessage, messages } = openClient();
    const whole = bytes("frag✓mented");
    const cut = 6; // inside the 3-byte "✓"
    await peer.write(serverFrame(TEXT, whole.subarray(0, 4), false));
    await peer.write(serverFrame(CONTINUATION, whole.subarray(4, cut), false));
    expect(messages).toEqual([]);
    await peer.write(serverFrame(CONTINUATION, whole.subarray(cut), true));
    expect(await nextMessage()).toBe("frag✓mented");
  });

  it("answers a ping that arrives in the middle of a fragmented message, then completes it", async () => {
    const { peer, nextMessage, messages } = openClient();
    await peer.write(serverFrame(BINARY, bytes("ab"), false));
    await peer.write(serverFrame(PING, bytes("are you there")));
    const pong = await readClientFrame(peer);
    expect(pong).toMatchObject({ opcode: PONG, fin: true, masked: true });
    expect(text(pong.payload)).toBe("are you there");
    expect(messages).toEqual([]);
    await peer.write(serverFrame(CONTINUATION, bytes("cd"), true));
    expect(text(new Uint8Array((await nextMessage()) as ArrayBuffer))).toBe("abcd");
  });

  it("frames split at every byte boundary still decode", async () => {
    const { peer, nextMessage } = openClient();
    const frame = serverFrame(TEXT, bytes("x".repeat(300)));
    for (const b of frame) await peer.write(Uint8Array.of(b));
    expect(await nextMessage()).toBe("x".repeat(300));
  });
});

describe("tcp WebSocket client: close handshake", () => {
  it("reports the server's close code and reason and echoes the code", async () => {
    const { peer, closed } = openClient();
    await peer.write(serverFrame(CLOSE, closeBody(4001, "bye now")));
    expect(await closed()).toEqual({ code: 4001, reason: "bye now" });
    const echo = await readClientFrame(peer);
    expect(echo.opcode).toBe(CLOSE);
    expect(new DataView(echo.payload.buffer).getUint16(0)).toBe(4001);
    expect(await peer.clientClosed()).toBe(true);
  });

  it("sends its own close with code and reason, waits for the server's, then ends", async () => {
    const { ws, peer, closed } = openClient();
    ws.close(1000, "client done");
    const frame = await readClientFrame(peer);
    expect(frame.opcode).toBe(CLOSE);
    expect(new DataView(frame.payload.buffer).getUint16(0)).toBe(1000);
    expect(text(frame.payload.subarray(2))).toBe("client done");
    await peer.write(serverFrame(CLOSE, closeBody(1000, "")));
    expect(await closed()).toEqual({ code: 1000, reason: "" });
    expect(await peer.clientClosed()).toBe(true);
  });

  it("reports 1006 when the connection ends without a close frame", async () => {
    const { peer, closed } = openClient();
    await peer.end();
    expect((await closed()).code).toBe(1006);
  });
});

describe("tcp WebSocket client: limits and protocol errors", () => {
  it("refuses an oversize frame with close 1009, from its length alone", async () => {
    const { peer, closed, messages } = openClient({ maxMessageBytes: 1024 });
    // Only the header of a 2000-byte frame: the client must not wait for the payload.
    await peer.write(serverFrame(BINARY, new Uint8Array(2000)).subarray(0, 4));
    expect((await closed()).code).toBe(1009);
    const frame = await readClientFrame(peer);
    expect(frame.opcode).toBe(CLOSE);
    expect(new DataView(frame.payload.buffer).getUint16(0)).toBe(1009);
    expect(messages).toEqual([]);
  });

  it("refuses a message whose fragments together exceed the limit with 1009", async () => {
    const { peer, closed } = openClient({ maxMessageBytes: 1024 });
    await peer.write(serverFrame(TEXT, bytes("a".repeat(600)), false));
    await peer.write(serverFrame(CONTINUATION, bytes("a".repeat(600)), true));
    expect((await closed()).code).toBe(1009);
  });

  const violations: Array<[string, Uint8Array, number]> = [
    ["a masked frame from the server", serverFrame(TEXT, bytes("hi"), true, true), 1002],
    ["a continuation without a message", serverFrame(CONTINUATION, bytes("hi")), 1002],
    ["a fragmented ping", serverFrame(PING, bytes("p"), false), 1002],
    ["a 126-byte ping", serverFrame(PING, new Uint8Array(126)), 1002],
    ["text that is not UTF-8", serverFrame(TEXT, Uint8Array.of(0xc3, 0x28)), 1007],
    ["a reserved opcode", serverFrame(0x3, bytes("x")), 1002],
    ["RSV bits without an extension", Uint8Array.of(0xc1, 0x00), 1002],
    ["a close code that may not be sent (1005)", serverFrame(CLOSE, closeBody(1005, "")), 1002],
  ];
  for (const [what, frame, code] of violations) {
    it(`fails the connection with ${code} on ${what}`, async () => {
      const { peer, closed } = openClient();
      await peer.write(frame);
      expect((await closed()).code).toBe(code);
      const reply = await readClientFrame(peer);
      expect(reply.opcode).toBe(CLOSE);
      expect(new DataView(reply.payload.buffer).getUint16(0)).toBe(code);
    });
  }

  it("fails on a new data message inside a fragmented one", async () => {
    const { peer, closed } = openClient();
    await peer.write(serverFrame(TEXT, bytes("a"), false));
    await peer.write(serverFrame(TEXT, bytes("b"), true));
    expect((await closed()).code).toBe(1002);
  });
});

/** Lets the client's pending reads and writes run. */
function settle(ms = 50): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe("tcp WebSocket client: a server that does not read, a client that pauses (issue 16 F5)", () => {
  it("counts the bytes the server has not taken, down to 0 once it reads them", async () => {
    const { ws, peer } = openClient();
    for (let i = 0; i < 3; i++) ws.send(new Uint8Array(1000));
    await settle();
    // Three 1000-byte binary frames: 2 + 2 (length) + 4 (mask) + 1000 bytes each; the
    // in-memory pipe takes at most one before its reader reads.
    expect(ws.queuedBytes).toBeGreaterThanOrEqual(2 * 1008);
    expect(ws.queuedBytes).toBeLessThanOrEqual(3 * 1008);
    for (let i = 0; i < 3; i++) expect((await readClientFrame(peer)).payload.length).toBe(1000);
    await settle();
    expect(ws.queuedBytes).toBe(0);
  });

  it("reads nothing from the server while paused, and delivers it in order on resume", async () => {
    const { ws, peer, messages, nextMessage } = openClient();
    ws.pause();
    void peer.write(serverFrame(TEXT, bytes("one")));
    void peer.write(serverFrame(TEXT, bytes("two")));
    await settle(100);
    expect(messages).toEqual([]);
    ws.resume();
    expect(await nextMessage()).toBe("one");
    expect(await nextMessage()).toBe("two");
  });

  it("drops the connection within its close timeout when the server takes none of its frames", async () => {
    const { ws, peer, closed } = openClient({ closeTimeoutMs: 200 });
    for (let i = 0; i < 4; i++) ws.send(new Uint8Array(1000));
    ws.close(1000, "done");
    // No close frame comes back and nothing is read: the close times out, and the
    // connection is dropped even though frames are still queued for the server.
    expect((await closed()).code).toBe(1000);
    expect(await peer.clientClosed()).toBe(true);
  });
});
