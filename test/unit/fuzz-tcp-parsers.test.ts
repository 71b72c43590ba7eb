/**
 * Properties of the tcp transport's parsers, which read whatever an origin writes: the
 * HTTP/1.1 response parser and the RFC 6455 frame decoder. For any bytes, in any split
 * into TCP chunks: the only exception is the parser's own (Http1ParseError /
 * WebSocketProtocolError with a close code), the outcome does not depend on the split,
 * what is encoded decodes to itself, and nothing grows past its limit.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Http1ParseError, Http1ResponseParser, type ParseEvent } from "../../relay/transport/tcp/http1-response-parser.ts";
import {
  CLOSE_PROTOCOL_ERROR,
  CLOSE_TOO_BIG,
  FrameDecoder,
  OPCODE,
  WebSocketProtocolError,
  encodeFrame,
  type Frame,
} from "../../relay/transport/tcp/websocket-frames.ts";
import { join as concat } from "../../relay/transport/tcp/http1-request.ts";
import { fuzzParams } from "./support/fuzz.ts";

const encoder = new TextEncoder();

function cut(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set([0, ...cuts.map((c) => c % (bytes.length + 1)), bytes.length])].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  for (let i = 0; i + 1 < points.length; i++) out.push(bytes.slice(points[i], points[i + 1]));
  return out;
}

type Outcome = { ok: true; status: number | undefined; headers: Array<[string, string]>; body: number[] } | { ok: false };

/** Feeds `chunks` then the end of the connection; only Http1ParseError may be thrown. */
function parse(chunks: readonly Uint8Array[], maxHeadBytes?: number): Outcome {
  const parser = new Http1ResponseParser({ requestMethod: "GET", ...(maxHeadBytes === undefined ? {} : { maxHeadBytes }) });
  const events: ParseEvent[] = [];
  try {
    for (const c of chunks) {
      if (parser.done) break;
      events.push(...parser.push(c));
    }
    if (!parser.done) events.push(...parser.finish());
  } catch (err) {
    if (!(err instanceof Http1ParseError)) throw err;
    return { ok: false };
  }
  let status: number | undefined;
  let headers: Array<[string, string]> = [];
  const body: number[] = [];
  for (const e of events) {
    if (e.kind === "head") {
      status = e.head.status;
      headers = e.head.headers.map(([n, v]) => [n, v]);
    }
    if (e.kind === "body") body.push(...e.bytes);
  }
  return { ok: true, status, headers, body };
}

const token = fc.stringMatching(/^[A-Za-z0-9-]{1,12}$/);
const fieldValue = fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,20}[\x21-\x7e])?$/);
const extraHeaders = fc
  .array(fc.tuple(token, fieldValue), { maxLength: 5 })
  .map((hs) => hs.filter(([n]) => !/^(content-length|transfer-encoding|connection)$/i.test(n)));

/** A well-formed response and what it must parse to. */
const response = fc
  .record({
    status: fc.integer({ min: 200, max: 599 }).filter((s) => s !== 204 && s !== 304),
    headers: extraHeaders,
    body: fc.uint8Array({ maxLength: 400 }),
    framing: fc.constantFrom("length", "chunked", "close"),
    chunkCuts: fc.array(fc.nat(), { maxLength: 5 }),
  })
  .map(({ status, headers, body, framing, chunkCuts }) => {
    const framingHeader = framing === "length" ? `Content-Length: ${body.length}\r\n` : framing === "chunked" ? "Transfer-Encoding: chunked\r\n" : "";
    const head = encoder.encode(`HTTP/1.1 ${status} X\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join("")}${framingHeader}\r\n`);
    let encoded: Uint8Array = body;
    if (framing === "chunked") {
      const parts = cut(body, chunkCuts).filter((c) => c.length > 0).flatMap((c) => [encoder.encode(`${c.length.toString(16)}\r\n`), c, encoder.encode("\r\n")]);
      encoded = concat([...parts, encoder.encode("0\r\n\r\n")]);
    }
    return { wire: concat([head, encoded]), status, headers, body };
  });

describe("HTTP/1.1 response parser", () => {
  it("parses any well-formed response to its status, headers and body, however it is split", () => {
    fc.assert(
      fc.property(response, fc.array(fc.nat(), { maxLength: 8 }), (r, cuts) => {
        const out = parse(cut(r.wire, cuts));
        expect(out.ok).toBe(true);
        if (!out.ok) return;
        expect(out.status).toBe(r.status);
        // Repeated fields are kept, in wire order, names lower-cased (a value may hold ", ": found by this property).
        expect(out.headers.filter(([n]) => n !== "content-length" && n !== "transfer-encoding")).toEqual(r.headers.map(([n, v]) => [n.toLowerCase(), v]));
        expect(out.body).toEqual([...r.body]);
      }),
      fuzzParams(2_000),
    );
  });

  it("on any bytes throws nothing but Http1ParseError, and the outcome does not depend on the split", () => {
    const noise = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      response.chain((r) => fc.tuple(fc.nat({ max: r.wire.length }), fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([at, junk]) => concat([r.wire.subarray(0, at), junk, r.wire.subarray(at)]))),
      fc.string({ unit: "binary-ascii", maxLength: 200 }).map((s) => encoder.encode(`HTTP/1.1 200 OK\r\n${s}`)),
    );
    fc.assert(
      fc.property(noise, fc.array(fc.nat(), { maxLength: 8 }), (bytes, cuts) => {
        expect(parse(cut(bytes, cuts))).toEqual(parse([bytes]));
      }),
      fuzzParams(3_000),
    );
  });

  it("refuses a head that grows past its limit instead of buffering it", () => {
    fc.assert(
      fc.property(fc.integer({ min: 64, max: 2_000 }), fc.array(fc.nat(), { maxLength: 6 }), (maxHeadBytes, cuts) => {
        const endless = encoder.encode(`HTTP/1.1 200 OK\r\nX-Long: ${"a".repeat(maxHeadBytes)}`);
        expect(parse(cut(endless, cuts), maxHeadBytes)).toEqual({ ok: false });
      }),
      fuzzParams(1_000),
    );
  });
});

const dataFrame = fc.record({ fin: fc.boolean(), opcode: fc.constantFrom<number>(OPCODE.text, OPCODE.binary, OPCODE.continuation), payload: fc.uint8Array({ maxLength: 300 }) });
const controlFrame = fc.record({ fin: fc.constant(true), opcode: fc.constantFrom<number>(OPCODE.close, OPCODE.ping, OPCODE.pong), payload: fc.uint8Array({ maxLength: 125 }) });
const frame: fc.Arbitrary<Frame> = fc.oneof(dataFrame, controlFrame);

/** Decodes `chunks`; only WebSocketProtocolError may be thrown. */
function decode(chunks: readonly Uint8Array[], max: number): { frames: Frame[]; error?: number } {
  const decoder = new FrameDecoder(max);
  const frames: Frame[] = [];
  try {
    for (const c of chunks) frames.push(...decoder.push(c));
  } catch (err) {
    if (!(err instanceof WebSocketProtocolError)) throw err;
    return { frames, error: err.closeCode };
  }
  return { frames };
}

describe("RFC 6455 frame decoder", () => {
  it("decodes any sequence of server frames to themselves, however the bytes are split", () => {
    fc.assert(
      fc.property(fc.array(frame, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), (frames, cuts) => {
        const wire = concat(frames.map((f) => encodeFrame(f.opcode, f.payload, f.fin, undefined)));
        const out = decode(cut(wire, cuts), 1024);
        expect(out.error).toBeUndefined();
        expect(out.frames.map((f) => ({ fin: f.fin, opcode: f.opcode, payload: [...f.payload] }))).toEqual(
          frames.map((f) => ({ fin: f.fin, opcode: f.opcode, payload: [...f.payload] })),
        );
      }),
      fuzzParams(2_000),
    );
  });

  it("on any bytes throws nothing but WebSocketProtocolError with a close code, the same however split", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.array(fc.nat(), { maxLength: 8 }), fc.integer({ min: 0, max: 300 }), (bytes, cuts, max) => {
        const whole = decode([bytes], max);
        const split = decode(cut(bytes, cuts), max);
        expect(split.error).toBe(whole.error);
        if (whole.error === undefined) expect(split.frames.length).toBe(whole.frames.length);
        else {
          expect([CLOSE_PROTOCOL_ERROR, CLOSE_TOO_BIG]).toContain(whole.error);
          // push() throws away the frames it decoded before the bad one in the same chunk,
          // so a finer split may deliver more of them first (found by this property; the
          // connection fails with the same code either way, which RFC 6455 §7.1.7 allows).
          expect(split.frames.length).toBeGreaterThanOrEqual(whole.frames.length);
        }
      }),
      fuzzParams(5_000),
    );
  });

  it("refuses a frame over the limit from its header alone (1009), and a masked server frame (1002)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 1, max: 70_000 }), fc.uint8Array({ minLength: 4, maxLength: 4 }), (max, extra, mask) => {
        const size = max + extra;
        const header = encodeFrame(OPCODE.binary, new Uint8Array(size), true, undefined).subarray(0, size < 126 ? 2 : size <= 0xffff ? 4 : 10);
        expect(decode([header], max).error).toBe(CLOSE_TOO_BIG);
        expect(decode([encodeFrame(OPCODE.text, new Uint8Array(1), true, mask)], 1024).error).toBe(CLOSE_PROTOCOL_ERROR);
      }),
      fuzzParams(2_000),
    );
  });
});
