// An origin that records the headers of every request it gets and answers with headers the
// test asks for: what a third-party origin behind the edge sees, and what it can try to
// send back through it. A real HTTP server on 127.0.0.1 (no edge code in it); `/health`
// answers push-edge's JSON contract so the pool takes it as healthy. WebSocket upgrades
// are accepted (with the same extra headers on the 101) and echo what they receive.

import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
}

export interface RecordingOrigin {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** The last request whose path starts with `prefix`. */
  last(prefix: string): RecordedRequest | undefined;
  close(): Promise<void>;
}

/** Response headers (repeated names allowed, as pairs) for a request path. */
export type AnswerHeaders = (path: string) => Array<[string, string]>;

export async function startRecordingOrigin(answer: AnswerHeaders): Promise<RecordingOrigin> {
  const requests: RecordedRequest[] = [];
  let sessions = 0;
  const server: Server = createServer((req, res) => {
    const path = req.url ?? "/";
    req.resume();
    req.on("end", () => {
      if (path === "/health") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ state: "active", sessions: 0, capacity: 1000 }));
        return;
      }
      requests.push({ method: req.method ?? "", path, headers: req.headers });
      sessions += 1;
      const headers: Array<[string, string]> = [["content-type", "text/plain"], ["x-session-id", `rec-${sessions}`], ...answer(path)];
      res.writeHead(200, headers.flat());
      res.end("recorded\n");
    });
  });
  const sockets = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  server.on("upgrade", (req, socket, head) => {
    const path = req.url ?? "/";
    requests.push({ method: req.method ?? "", path, headers: req.headers });
    sockets.once("headers", (headers) => {
      for (const [name, value] of answer(path)) headers.push(`${name}: ${value}`);
    });
    sockets.handleUpgrade(req, socket, head, (ws) => {
      ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    last: (prefix) => requests.filter((r) => r.path.startsWith(prefix)).at(-1),
    async close() {
      for (const ws of sockets.clients) ws.terminate();
      sockets.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
