/**
 * A PROXY-only origin that gets HTTP or the WebSocket handshake wrong: the tcp transport
 * answers 502 `origin_unreachable` for what is not HTTP (or not a trustworthy WebSocket),
 * relays every real HTTP answer as it is, and cuts a body the origin cut — it never
 * passes on a short body as a complete one.
 */
import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningStack } from "../../infra/local/stack.ts";
import { parseProxyHeader } from "../../infra/origin/proxy-protocol.ts";
import { rejectedUpgrade } from "./support/http-clients.ts";
import { testStack } from "./support/stack.ts";
import { WAIT_MS, withTimeout } from "./support/wait.ts";

const json = (status: string, body: unknown, extra = ""): string => {
  const text = JSON.stringify(body);
  return `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n${extra}Connection: close\r\n\r\n${text}`;
};

/** Answers by request line, after a PROXY header it insists on. */
function answer(socket: Socket, requestLine: string): void {
  const [method, path] = requestLine.split(" ");
  if (path === "/health") socket.end(json("200 OK", { state: "active", sessions: 0, capacity: 100 }));
  else if (method === "POST" && path === "/session") socket.end(json("201 Created", { id: "s1" }, "X-Session-Id: s1\r\n"));
  else if (path === "/garbage") socket.end("HTTP/1.1 abc\r\n\r\n");
  else if (path === "/cut") socket.end("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly-part");
  else if (path === "/refuse") socket.end(json("503 Service Unavailable", { error: "origin_full" }));
  else if (path === "/bad-accept") {
    socket.end("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: d3Jvbmc=\r\n\r\n");
  } else socket.end(json("404 Not Found", { error: "not_found" }));
}

function startFakeOrigin(): Promise<Server> {
  const server = createServer((socket) => {
    let buffered = Buffer.alloc(0);
    let headerLength: number | undefined;
    socket.on("error", () => {});
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (headerLength === undefined) {
        const parsed = parseProxyHeader(buffered);
        if (parsed.status === "incomplete") return;
        if (parsed.status !== "complete") {
          socket.destroy();
          return;
        }
        headerLength = parsed.header.length;
      }
      const rest = buffered.subarray(headerLength).toString("latin1");
      const end = rest.indexOf("\r\n\r\n");
      if (end === -1) return;
      answer(socket, rest.slice(0, rest.indexOf("\r\n")));
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

describe("tcp transport against a misbehaving PROXY-only origin", () => {
  let server: Server;
  let stack: RunningStack;
  let token = "";

  beforeAll(async () => {
    server = await startFakeOrigin();
    const { port } = server.address() as AddressInfo;
    stack = await testStack({ origins: [{ id: "fake", url: `http://127.0.0.1:${port}`, transport: "tcp" }] });
    const created = await fetch(`${stack.edgeUrl}/session`, { method: "POST" });
    expect(created.status).toBe(201);
    token = created.headers.get("x-affinity-token") ?? "";
    await created.body?.cancel();
  });
  afterAll(async () => {
    await stack?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  const cr = (path: string) => fetch(`${stack.edgeUrl}${path}`, { headers: { "x-affinity-token": token } });

  it("answers 502 origin_unreachable when the origin's answer is not HTTP", async () => {
    const res = await cr("/garbage");
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ error: "origin_unreachable" });
  });

  it("relays the origin's own error answers unchanged", async () => {
    const res = await cr("/refuse");
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: "origin_full" });
  });

  it("fails a body the origin cut short instead of passing it on as complete", async () => {
    // The head may or may not reach the client before the cut; a complete body never does.
    const outcome = await withTimeout(
      cr("/cut").then(
        (res) => res.text().then(() => "complete", () => "cut"),
        () => "cut",
      ),
      WAIT_MS,
      "the cut body",
    );
    expect(outcome).toBe("cut");
  });

  it("refuses a 101 whose Sec-WebSocket-Accept does not match the key (502)", async () => {
    const refused = await rejectedUpgrade(`${stack.edgeUrl.replace(/^http/, "ws")}/bad-accept`, { "x-affinity-token": token });
    expect(refused.status).toBe(502);
    expect(refused.body).toMatchObject({ error: "origin_unreachable" });
  });
});
