/**
 * How the tcp transport writes a request: head, then a body framed the way origins accept
 * — exact Content-Length for small bodies (even when a rewrite changed the length), the
 * declared length streamed and checked for large ones, chunked when no length is known.
 */
import { describe, expect, it } from "vitest";
import { SMALL_BODY_BYTES, writeRequest } from "../../relay/transport/tcp/http1-request.ts";
import { tcpOriginHeaders } from "../../relay/transport/tcp-origin-connection.ts";

/** Collects what writeRequest writes. */
async function written(request: Parameters<typeof writeRequest>[1]): Promise<string> {
  const chunks: Uint8Array[] = [];
  const sink = new WritableStream<Uint8Array>({ write: (c) => void chunks.push(c) });
  const writer = sink.getWriter();
  await writeRequest((b) => writer.write(b), request);
  return chunks.map((c) => new TextDecoder().decode(c)).join("");
}

function streamOf(parts: readonly string[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const p of parts) controller.enqueue(new TextEncoder().encode(p));
      controller.close();
    },
  });
}

describe("HTTP/1.1 request writer", () => {
  it("writes a bodiless GET with no framing headers, and Content-Length: 0 for a bodiless POST", async () => {
    expect(await written({ method: "GET", target: "/a?b=1", headers: new Headers({ host: "o:1" }), body: null })).toBe(
      "GET /a?b=1 HTTP/1.1\r\nhost: o:1\r\n\r\n",
    );
    expect(await written({ method: "POST", target: "/", headers: new Headers(), body: null })).toBe(
      "POST / HTTP/1.1\r\ncontent-length: 0\r\n\r\n",
    );
  });

  it("sends a small body with its actual length, whatever the stale header said", async () => {
    const out = await written({
      method: "POST",
      target: "/c",
      headers: new Headers({ "content-length": "3" }),
      body: streamOf(["rewritten", "-body"]),
    });
    expect(out).toBe("POST /c HTTP/1.1\r\ncontent-length: 14\r\n\r\nrewritten-body");
  });

  it("streams a body of unknown length with chunked transfer coding", async () => {
    const out = await written({ method: "POST", target: "/u", headers: new Headers(), body: streamOf(["ab", "", "cdef"]) });
    expect(out).toBe("POST /u HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n2\r\nab\r\n4\r\ncdef\r\n0\r\n\r\n");
  });

  it("streams a large declared body and refuses one whose length disagrees", async () => {
    const size = SMALL_BODY_BYTES + 10;
    const half = "x".repeat(size / 2);
    const out = await written({ method: "PUT", target: "/l", headers: new Headers({ "content-length": String(size) }), body: streamOf([half, half]) });
    expect(out.startsWith(`PUT /l HTTP/1.1\r\ncontent-length: ${size}\r\n\r\n`)).toBe(true);
    expect(out.length - out.indexOf("\r\n\r\n") - 4).toBe(size);
    await expect(
      written({ method: "PUT", target: "/l", headers: new Headers({ "content-length": String(size) }), body: streamOf([half]) }),
    ).rejects.toThrow(/Content-Length/);
  });
});

describe("request headers over a raw connection", () => {
  it("drops hop-by-hop, Connection-listed and cf-* headers, names the origin as Host, asks for close", () => {
    const request = new Request("https://push.example.com/s?x=1", {
      headers: {
        connection: "keep-alive, x-hop",
        "x-hop": "1",
        "keep-alive": "timeout=5",
        te: "trailers",
        "cf-connecting-ip": "203.0.113.9",
        "cf-ray": "abc",
        "x-forwarded-for": "203.0.113.9",
        "x-custom": "kept",
      },
    });
    const headers = tcpOriginHeaders(request, new URL("http://origin.test:8080/s?x=1"));
    expect(Object.fromEntries(headers)).toEqual({
      connection: "close",
      host: "origin.test:8080",
      "x-custom": "kept",
      "x-forwarded-for": "203.0.113.9",
    });
  });
});
