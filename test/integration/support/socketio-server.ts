/**
 * A plain Socket.IO 4 server for tests — the real `socket.io` package, not our code —
 * run as its own process: `node socketio-server.ts --id s1 [--port 0]`.
 *
 * It acknowledges `echo` events with `{ data, origin }`, says `hello` with its id on
 * connect, marks every HTTP response with `X-Origin-Id`, and answers `/health` the way
 * the edge expects. Prints one JSON `ready` line with its URL.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { Server } from "socket.io";

const { values } = parseArgs({ options: { id: { type: "string" }, port: { type: "string" } } });
const id = values.id ?? "s1";

const http = createServer((req, res) => {
  if (req.url === "/health") {
    res.writeHead(200, { "content-type": "application/json", "x-origin-id": id });
    res.end(JSON.stringify({ id, state: "active", sessions: io.engine.clientsCount, capacity: 100_000 }));
    return;
  }
  // socket.io handles /socket.io/; anything else is not ours.
  if (!(req.url ?? "").startsWith("/socket.io/")) {
    res.writeHead(404, { "x-origin-id": id }).end();
  }
});
const io = new Server(http, { cors: { origin: "*" } });
io.engine.on("initial_headers", (headers: Record<string, string>) => {
  headers["X-Origin-Id"] = id;
});
io.engine.on("headers", (headers: Record<string, string>) => {
  headers["X-Origin-Id"] = id;
});
io.on("connection", (socket) => {
  socket.emit("hello", { origin: id });
  socket.on("echo", (data: unknown, ack: unknown) => {
    if (typeof ack === "function") ack({ data, origin: id });
  });
});

http.listen(Number(values.port ?? "0"), "127.0.0.1", () => {
  const { port } = http.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ event: "ready", id, url: `http://127.0.0.1:${port}` })}\n`);
});
const stop = (): void => {
  void io.close();
  http.closeAllConnections();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
