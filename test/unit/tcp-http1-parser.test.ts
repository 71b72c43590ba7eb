/**
 * Properties of the tcp transport's HTTP/1.1 response reading, in workerd: whatever way a
 * response is cut into TCP chunks and whatever chunked encoding the origin chose, the
 * client's body stream yields exactly the bytes sent — or fails with a clear
 * Http1ExchangeError — and always finishes (the connection's end decides every case).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Http1ExchangeError, exchange } from "../../relay/transport/tcp/http1-client.ts";
import { Http1ParseError, Http1ResponseParser } from "../../relay/transport/tcp/http1-response-parser.ts";
import { join as concat } from "../../relay/transport/tcp/http1-request.ts";
import { bytes, memoryPipe, within } from "./support/memory-pipe.ts";

type Framing = "length" | "chunked" | "close";

interface Encoded {
  readonly wire: Uint8Array;
  readonly body: Uint8Array;
}

/** A chunked encoding of `body`: chunk sizes, hex case, extensions and trailers all vary. */
const chunkedArb = (body: Uint8Array) =>
  fc
    .record({
      cuts: fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, body.length - 1) }), { maxLength: 8 }),
      upper: fc.boolean(),
      extension: fc.constantFrom("", ";x=1", ';name="v"', " ;a"),
      trailers: fc.constantFrom("", "X-Trailer: 1\r\n", "A: b\r\nC: d\r\n"),
    })
    .map(({ cuts, upper, extension, trailers }) => {
      const points = [0, ...cuts.filter((c) => c < body.length).sort((a, b) => a - b), body.length];
      const parts: Uint8Array[] = [];
      for (let i = 0; i + 1 < points.length; i++) {
        const chunk = body.subarray(points[i], points[i + 1]);
        if (chunk.length === 0) continue;
        const size = chunk.length.toString(16);
        parts.push(bytes(`${upper ? size.toUpperCase() : size}${extension}\r\n`), chunk, bytes("\r\n"));
      }
      parts.push(bytes(`0${extension}\r\n${trailers}\r\n`));
      return concat(parts);
    });

const responseArb: fc.Arbitrary<Encoded & { framing: Framing }> = fc
  .tuple(fc.uint8Array({ maxLength: 600 }), fc.constantFrom<Framing>("length", "chunked", "close"))
  .chain(([body, framing]): fc.Arbitrary<Encoded & { framing: Framing }> => {
    const head = (extra: string) => bytes(`HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n${extra}\r\n`);
    if (framing === "length") return fc.constant({ wire: concat([head(`Content-Length: ${body.length}\r\n`), body]), body, framing });
    if (framing === "close") return fc.constant({ wire: concat([head(""), body]), body, framing });
    return chunkedArb(body).map((encoded) => ({ wire: concat([head("Transfer-Encoding: chunked\r\n"), encoded]), body, framing }));
  });

/** Cuts `wire` at the given points into the chunks a socket might deliver. */
function split(wire: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set([0, ...cuts.map((c) => c % (wire.length + 1)), wire.length])].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  for (let i = 0; i + 1 < points.length; i++) out.push(wire.slice(points[i], points[i + 1]));
  return out;
}

/** Runs the real client over an in-memory connection; the peer sends `chunks`, then ends. */
async function readThroughClient(chunks: readonly Uint8Array[]): Promise<{ ok: true; body: Uint8Array } | { ok: false; error: unknown }> {
  const { connection, peer } = memoryPipe();
  const sending = (async () => {
    for (const c of chunks) await peer.write(c);
    await peer.end();
  })().catch(() => {
    // The client may give up (bad head) before the peer is done writing.
  });
  try {
    const result = await within(
      exchange(connection, { method: "GET", target: "/", headers: new Headers({ host: "o" }), body: null }),
      "the response head",
    );
    if (result.kind !== "response" || result.body === null) throw new Error(`unexpected ${result.kind}`);
    const received: Uint8Array[] = [];
    const reader = result.body.getReader();
    for (;;) {
      const { done, value } = await within(reader.read(), "the next body chunk");
      if (done) break;
      received.push(value);
    }
    return { ok: true, body: concat(received) };
  } catch (error) {
    return { ok: false, error };
  } finally {
    await sending;
  }
}

describe("HTTP/1.1 response reading (property)", () => {
  it("yields exactly the body sent, for any chunk split and any chunked encoding", async () => {
    await fc.assert(
      fc.asyncProperty(responseArb, fc.array(fc.nat(), { maxLength: 12 }), async (response, cuts) => {
        const result = await readThroughClient(split(response.wire, cuts));
        expect(result).toEqual({ ok: true, body: response.body });
      }),
      { numRuns: 150 },
    );
  });

  it("a response cut short either yields its bytes or fails clearly, never hangs", async () => {
    await fc.assert(
      fc.asyncProperty(responseArb, fc.nat(), fc.array(fc.nat(), { maxLength: 6 }), async (response, at, cuts) => {
        const truncated = response.wire.subarray(0, at % (response.wire.length + 1));
        const result = await readThroughClient(split(truncated, cuts));
        if (result.ok) {
          // Only a close-delimited body may end early, and then it is exactly what arrived.
          if (truncated.length < response.wire.length) expect(response.framing).toBe("close");
          expect(response.body.subarray(0, result.body.length)).toEqual(result.body);
        } else {
          expect(result.error).toBeInstanceOf(Http1ExchangeError);
          expect(String((result.error as Error).message)).not.toBe("");
        }
      }),
      { numRuns: 150 },
    );
  });

  it("arbitrary bytes end in a response or an Http1ParseError once the connection ends", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ maxLength: 300 }), responseArb.map((r) => r.wire)),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        (wire, flips) => {
          const mutated = new Uint8Array(wire);
          for (const [i, b] of flips) if (mutated.length > 0) mutated[i % mutated.length] = b;
          const parser = new Http1ResponseParser({ requestMethod: "GET" });
          try {
            parser.push(mutated);
            parser.finish();
            // The connection's end always settles it: nothing may still be waiting for bytes.
            expect(parser.done).toBe(true);
          } catch (err) {
            expect(err).toBeInstanceOf(Http1ParseError);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("HTTP/1.1 response reading (cases)", () => {
  const read = (wire: string) => readThroughClient([bytes(wire)]);

  it("skips 100 Continue and reads the real response", async () => {
    expect(await read("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")).toEqual({ ok: true, body: bytes("ok") });
  });

  it("refuses conflicting Content-Length values and obsolete line folding", async () => {
    for (const wire of [
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
      "HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 2\r\n\r\nok",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "HTTP/2 200\r\n\r\n",
    ]) {
      const result = await read(wire);
      expect(result.ok).toBe(false);
    }
  });

  it("delivers a partial chunk before the rest of it arrives (no buffering)", async () => {
    const { connection, peer } = memoryPipe();
    // In workerd a bare TransformStream hands a write over only when it is read: start reading first.
    const pending = exchange(connection, { method: "GET", target: "/", headers: new Headers(), body: null });
    await peer.readExactly(bytes("GET / HTTP/1.1\r\n\r\n").length);
    await peer.write(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"));
    const result = await within(pending, "the response head");
    if (result.kind !== "response" || result.body === null) throw new Error("no body");
    const reader = result.body.getReader();
    const chunk = reader.read();
    await peer.write(bytes("400\r\nfirst-part"));
    const first = await within(chunk, "the first bytes of a 1024-byte chunk");
    expect(new TextDecoder().decode(first.value)).toBe("first-part");
    await reader.cancel();
    expect(await peer.clientClosed()).toBe(true);
  });
});
