/**
 * A Socket.IO 4 server exactly as a fleet runs it: `new Server(httpServer)` on an
 * `http.createServer()` with no request handler of its own — no /health, no extra route,
 * no header. Any path other than /socket.io/ is left unanswered, as Socket.IO leaves it.
 * The application says `hello` with its node id on connect and acknowledges `echo`.
 *
 *   node plain-socketio-server.ts --id s1 [--port 0]
 * Prints one JSON `ready` line with its URL.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { Server } from "socket.io";

const { values } = parseArgs({ options: { id: { type: "string" }, port: { type: "string" } } });
const id = values.id ?? "s1";

const http = createServer();
const io = new Server(http);
io.on("connection", (socket) => {
  socket.emit("hello", { node: id });
  socket.on("echo", (data: unknown, ack: unknown) => {
    if (typeof ack === "function") ack({ data, node: id });
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
