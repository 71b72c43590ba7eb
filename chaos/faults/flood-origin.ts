/**
 * An origin that writes as fast as it is allowed to, and counts what it got to write —
 * the slow-consumer measurement's way to see back-pressure from the origin's side:
 *   GET /flood     an SSE-framed HTTP stream, written only while the socket takes more
 *                  (Node's write() → false: wait for 'drain'), so its count is what the
 *                  path between it and the client has accepted;
 *   GET /wsflood   a WebSocket that sends 64 KiB messages while its own send buffer is
 *                  small (ws bufferedAmount), up to `wsCapBytes`;
 *   GET /health    always healthy.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";

const CHUNK = Buffer.from(`data: ${"x".repeat(16 * 1024 - 8)}\n\n`);
const WS_MESSAGE = Buffer.alloc(64 * 1024, 0x61);
/** The origin's own send buffer limit for WebSockets: it never queues more than this itself. */
const WS_OWN_BUFFER = 1024 * 1024;

export interface FloodOrigin {
  readonly url: string;
  /** Bytes handed to the socket, per open HTTP stream (in opening order). */
  readonly httpWritten: number[];
  /** Bytes sent, per WebSocket (in opening order). */
  readonly wsSent: number[];
  close(): Promise<void>;
}

export async function startFloodOrigin(options: { httpCapBytes: number; wsCapBytes: number }): Promise<FloodOrigin> {
  const httpWritten: number[] = [];
  const wsSent: number[] = [];
  const open = new Set<{ destroy(): void }>();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });

  function flood(res: ServerResponse): void {
    const index = httpWritten.push(0) - 1;
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    const pump = (): void => {
      while ((httpWritten[index] ?? 0) < options.httpCapBytes && !res.destroyed) {
        httpWritten[index] = (httpWritten[index] ?? 0) + CHUNK.length;
        if (!res.write(CHUNK)) {
          res.once("drain", pump);
          return;
        }
      }
      res.end();
    };
    pump();
  }

  function wsFlood(ws: WebSocket): void {
    const index = wsSent.push(0) - 1;
    ws.on("error", () => {});
    const pump = (): void => {
      if (ws.readyState !== ws.OPEN) return;
      while (ws.bufferedAmount < WS_OWN_BUFFER && (wsSent[index] ?? 0) < options.wsCapBytes) {
        wsSent[index] = (wsSent[index] ?? 0) + WS_MESSAGE.length;
        ws.send(WS_MESSAGE);
      }
      if ((wsSent[index] ?? 0) < options.wsCapBytes) setTimeout(pump, 5);
    };
    pump();
  }

  const server = createServer(function handle(req: IncomingMessage, res: ServerResponse) {
    if (req.url === "/health") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ state: "active", sessions: 0, capacity: 1000 }));
      return;
    }
    if (req.url?.startsWith("/flood") === true) return flood(res);
    res.writeHead(404).end();
  });
  server.on("connection", (socket) => {
    open.add(socket);
    socket.once("close", () => open.delete(socket));
  });
  server.on("upgrade", (req, socket, head) => {
    if (req.url?.startsWith("/wsflood") !== true) return socket.destroy();
    wss.handleUpgrade(req, socket, head, wsFlood);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    httpWritten,
    wsSent,
    async close() {
      for (const s of open) s.destroy();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
