import { describe, expect, it } from "vitest";
import { checkHealth } from "../../durable-objects/pool/health-check.ts";

const FETCH = { kind: "fetch" } as const;

/** A fetcher whose 200 answer sends its headers and then `body` (or nothing until aborted). */
function answering(body: string | undefined): typeof fetch {
  return (async (_input: RequestInfo | URL, init?: RequestInit) => {
    const signal = init?.signal ?? undefined;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        if (body !== undefined) {
          controller.enqueue(new TextEncoder().encode(body));
          controller.close();
          return;
        }
        // Headers sent, body never: the check's timeout must end the wait.
        signal?.addEventListener("abort", () => controller.error(signal.reason));
      },
    });
    return new Response(stream, { status: 200, headers: { "content-type": "application/json" } });
  }) as typeof fetch;
}

describe("checkHealth", () => {
  it("reads state, sessions and capacity from a JSON answer", async () => {
    const report = await checkHealth("http://o1", FETCH, 1000, answering('{"state":"draining","sessions":3,"capacity":10}'));
    expect(report).toEqual({ ok: true, state: "draining", sessions: 3, capacity: 10 });
  });

  it("says the body never came, not that the origin answered 200, when the body times out", async () => {
    const report = await checkHealth("http://o1", FETCH, 50, answering(undefined));
    expect(report).toEqual({ ok: false, error: "health check body not received within 50 ms" });
  });

  it("names a body that is not JSON", async () => {
    const report = await checkHealth("http://o1", FETCH, 1000, answering("<html>"));
    expect(report).toEqual({ ok: false, error: "health check answered 200 with a body that is not JSON" });
  });
});
