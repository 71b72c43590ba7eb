/**
 * No buffering on the relay path: an event the origin writes reaches the client before the
 * origin writes the next one, over HTTP streaming and over WebSocket.
 */
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningStack } from "../../infra/local/stack.ts";
import { httpJson, openSse, openWebSocket } from "./support/http-clients.ts";
import { testStack } from "./support/stack.ts";
import { withTimeout } from "./support/wait.ts";

let stack: RunningStack;

beforeAll(async () => {
  // Ticks off: the only events are the ones the test asks the origin to write.
  stack = await testStack({ originCount: 1, originArgs: ["--interval-ms", "0"] });
});
afterAll(async () => {
  await stack?.close();
});

async function createSession(): Promise<{ id: string; token: string }> {
  const res = await httpJson(`${stack.edgeUrl}/session`, { method: "POST" });
  return { id: (res.body as { id: string }).id, token: String(res.headers["x-affinity-token"]) };
}

async function emit(session: { id: string; token: string }, data: unknown): Promise<void> {
  const res = await httpJson(`${stack.edgeUrl}/session/${session.id}/control`, {
    method: "POST",
    headers: { "x-affinity-token": session.token },
    body: { cmd: "emit", data },
  });
  expect(res.status).toBe(200);
}

describe("relay without buffering", () => {
  it("delivers each HTTP-stream event before the origin writes the next", async () => {
    const session = await createSession();
    const sse = await openSse(`${stack.edgeUrl}/session/${session.id}/stream?interval_ms=0`, {
      "x-affinity-token": session.token,
      "accept-encoding": "gzip, br",
    });
    expect(sse.headers["content-type"]).toMatch(/^text\/event-stream/);
    expect(sse.headers["content-encoding"] ?? "identity").toBe("identity");
    // Each event is requested only after the previous one arrived: if anything between
    // origin and client held bytes back (a buffer, a compressor), next() would time out.
    for (let n = 1; n <= 5; n++) {
      await emit(session, { n });
      expect(JSON.parse((await sse.next()).data)).toMatchObject({ type: "emit", data: { n } });
    }
    sse.close();
  });

  it("delivers each WebSocket event before the origin writes the next", async () => {
    const session = await createSession();
    const ws = await openWebSocket(`${stack.edgeUrl.replace(/^http/, "ws")}/session/${session.id}/ws?interval_ms=0`, {
      "x-affinity-token": session.token,
    });
    expect(await ws.nextJson()).toMatchObject({ type: "hello" });
    for (let n = 1; n <= 5; n++) {
      await emit(session, { n });
      expect(await ws.nextJson()).toMatchObject({ type: "emit", data: { n } });
    }
    ws.ws.close(1000);
    await ws.closed();
  });
});

describe("streamed text/plain (what a CDN would compress)", () => {
  it("reaches a gzip-accepting client chunk by chunk, uncompressed", async () => {
    // A plain streaming origin: one text line per request to /more, on a response that never
    // declares its length — the shape of many legacy HTTP-streaming push servers.
    let open: ServerResponse | undefined;
    const origin = createServer((req, res) => {
      if (req.url === "/health") {
        res.writeHead(200, { "content-type": "application/json" }).end('{"state":"active","sessions":0}');
      } else if (req.url === "/stream") {
        res.writeHead(200, { "content-type": "text/plain", "x-origin-id": "plain" });
        res.write("line 0\n");
        open = res;
      } else {
        open?.write(`${req.url ?? ""}\n`);
        res.writeHead(204).end();
      }
    });
    await new Promise<void>((resolve) => origin.listen(0, "127.0.0.1", resolve));
    const { port } = origin.address() as AddressInfo;
    // Its GET /stream opens the session (the pool says so: config/session-start.ts).
    const plain = await testStack({
      origins: [{ id: "plain", url: `http://127.0.0.1:${port}` }],
      poolSettings: { sessionStart: { requests: [{ methods: ["GET"], path: "/stream" }] } },
    });
    try {
      const res = await fetch(`${plain.edgeUrl}/stream`, { headers: { "accept-encoding": "gzip, br" } });
      expect(res.headers.get("content-encoding") ?? "identity").toBe("identity");
      const token = res.headers.get("x-affinity-token") ?? "";
      const body = res.body;
      if (body === null) throw new Error("no body");
      const reader = body.getReader();
      const decoder = new TextDecoder();
      const read = async (): Promise<string> => {
        const chunk = await withTimeout(reader.read(), 10_000, "a streamed chunk");
        return decoder.decode(chunk.value);
      };
      expect(await read()).toBe("line 0\n");
      for (const n of [1, 2, 3]) {
        const poke = await fetch(`${plain.edgeUrl}/line-${n}`, { headers: { "x-affinity-token": token } });
        expect(poke.status).toBe(204);
        expect(await read()).toBe(`/line-${n}\n`);
      }
      await reader.cancel();
    } finally {
      open?.end();
      await plain.close();
      origin.closeAllConnections();
      await new Promise((resolve) => origin.close(resolve));
    }
  });
});
