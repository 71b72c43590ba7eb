/**
 * EndablePipe (relay/endable-pipe.ts) in workerd: the origin's chunks pass after the head,
 * end() appends the protocol's text and cancels the origin, and each way a stream ends is
 * told once. The sources here are JavaScript streams held open by the test (an origin
 * that is idle between chunks); the native fetch source is covered by the integration
 * tests (edge-relay-modes, edge-session-end).
 */
import { describe, expect, it } from "vitest";
import { EndablePipe, type PipeEnd } from "../../relay/endable-pipe.ts";
import { openRelays } from "../../relay/open-relays.ts";

const text = (bytes: Uint8Array | undefined): string => new TextDecoder().decode(bytes);

/** A source the test writes to; `cancelled` resolves with the reason when the pipe cancels it. */
function idleOrigin() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let cancelled!: (reason: unknown) => void;
  const cancel = new Promise<unknown>((resolve) => (cancelled = resolve));
  const stream = new ReadableStream<Uint8Array>({
    start: (c) => {
      controller = c;
    },
    cancel: (reason) => cancelled(reason),
  });
  return { stream, send: (s: string) => controller.enqueue(new TextEncoder().encode(s)), close: () => controller.close(), cancel };
}

function done(): { promise: Promise<PipeEnd>; onDone: (by: PipeEnd) => void } {
  let onDone!: (by: PipeEnd) => void;
  const promise = new Promise<PipeEnd>((resolve) => (onDone = resolve));
  return { promise, onDone };
}

describe("EndablePipe", () => {
  it("passes the head, then the origin's chunks as they come, and ends with the protocol's text", async () => {
    const origin = idleOrigin();
    const over = done();
    const before = openRelays();
    const pipe = new EndablePipe(origin.stream, new TextEncoder().encode("CONOK,t\r\n"), over.onDone);
    expect(openRelays()).toBe(before + 1);
    const reader = pipe.body.getReader();
    expect(text((await reader.read()).value)).toBe("CONOK,t\r\n");
    origin.send("U,1,1,a\r\n");
    expect(text((await reader.read()).value)).toBe("U,1,1,a\r\n");

    // The origin is idle: end() still ends the stream now, and the origin hears it.
    pipe.end("END,48,bye\r\n");
    expect(text((await reader.read()).value)).toBe("END,48,bye\r\n");
    expect((await reader.read()).done).toBe(true);
    expect(await origin.cancel).toBeDefined();
    expect(await over.promise).toBe("edge");
    expect(openRelays()).toBe(before);
  });

  it("closes when the origin's answer is complete, and a later end() adds nothing", async () => {
    const origin = idleOrigin();
    const over = done();
    const pipe = new EndablePipe(origin.stream, undefined, over.onDone);
    origin.send("data: 1\n\n");
    origin.close();
    expect(await new Response(pipe.body).text()).toBe("data: 1\n\n");
    expect(await over.promise).toBe("origin");
    pipe.end("too late");
  });

  it("ends with no text (a protocol whose end is the close)", async () => {
    const origin = idleOrigin();
    const over = done();
    const pipe = new EndablePipe(origin.stream, undefined, over.onDone);
    const reader = pipe.body.getReader();
    origin.send("data: 1\n\n");
    expect(text((await reader.read()).value)).toBe("data: 1\n\n");
    pipe.end(undefined);
    expect((await reader.read()).done).toBe(true);
    expect(await over.promise).toBe("edge");
  });

  it("cancels the origin's answer when the client has gone away, at the origin's next write", async () => {
    const origin = idleOrigin();
    const over = done();
    const pipe = new EndablePipe(origin.stream, undefined, over.onDone);
    const reader = pipe.body.getReader();
    origin.send("data: 1\n\n");
    await reader.read();
    await reader.cancel("client gone");
    // The pipe waits on the origin, not the client: it learns of the client when it next writes.
    origin.send("data: 2\n\n");
    expect(await origin.cancel).toBeDefined();
    expect(await over.promise).toBe("client_or_origin");
  });
});
