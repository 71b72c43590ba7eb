/**
 * No buffering on the tcp transport, the other half: a client that stops reading pushes
 * back on the origin. A PROXY-only origin floods a response (writing only while its socket
 * accepts more); while the client reads nothing, the origin gets to write no more than the
 * buffers along the way hold — nowhere near the whole flood, which an edge that read ahead
 * into memory would swallow.
 */
import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningStack } from "../../infra/local/stack.ts";
import { parseProxyHeader } from "../../infra/origin/proxy-protocol.ts";
import { testStack } from "./support/stack.ts";
import { sleep, WAIT_MS, withTimeout } from "./support/wait.ts";

const FLOOD_BYTES = 256 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);

/** Bytes the origin managed to hand to its socket for the current flood. */
let written = 0;

function flood(socket: Socket): void {
  socket.write("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n");
  const pump = (): void => {
    while (written < FLOOD_BYTES) {
      written += CHUNK.length;
      if (!socket.write(CHUNK)) {
        socket.once("drain", pump);
        return;
      }
    }
    socket.end();
  };
  pump();
}

function startFloodOrigin(): Promise<Server> {
  const server = createServer((socket) => {
    let buffered = Buffer.alloc(0);
    socket.on("error", () => {});
    socket.on("data", function onData(chunk: Buffer) {
      buffered = Buffer.concat([buffered, chunk]);
      const parsed = parseProxyHeader(buffered);
      if (parsed.status === "incomplete") return;
      if (parsed.status !== "complete") {
        socket.destroy();
        return;
      }
      const head = buffered.subarray(parsed.header.length).toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      socket.removeListener("data", onData);
      if (head.startsWith("GET /health ")) {
        const body = JSON.stringify({ state: "active", sessions: 0, capacity: 10 });
        socket.end(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      } else {
        flood(socket);
      }
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

describe("tcp transport back-pressure", () => {
  let server: Server;
  let stack: RunningStack;

  beforeAll(async () => {
    server = await startFloodOrigin();
    const { port } = server.address() as AddressInfo;
    stack = await testStack({
      origins: [{ id: "flood", url: `http://127.0.0.1:${port}`, transport: "tcp", proxy: { version: 1 } }],
      // GET /flood opens the session, so the stream runs through its session object.
      poolSettings: { sessionStart: { requests: [{ methods: ["GET"], path: "/flood" }] } },
    });
  });
  afterAll(async () => {
    await stack?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it("a client that stops reading stops the origin's writes, and a resumed read gets the stream going again", async () => {
    written = 0;
    const res = await withTimeout(fetch(`${stack.edgeUrl}/flood`), WAIT_MS, "the flood's response head");
    expect(res.status).toBe(200);
    const reader = res.body?.getReader();
    if (reader === undefined) throw new Error("no body");
    await withTimeout(reader.read(), WAIT_MS, "the first bytes");
    // Read nothing for a while: whatever the origin writes now sits in buffers on the way.
    await sleep(1_500);
    const whileStalled = written;
    expect(whileStalled).toBeLessThan(FLOOD_BYTES / 4);
    // Reading again lets the origin write again.
    let received = 0;
    while (written === whileStalled && received < FLOOD_BYTES / 2) {
      const chunk = await withTimeout(reader.read(), WAIT_MS, "more of the flood");
      if (chunk.done) break;
      received += chunk.value.byteLength;
    }
    expect(written).toBeGreaterThan(whileStalled);
    await reader.cancel();
  });
});
