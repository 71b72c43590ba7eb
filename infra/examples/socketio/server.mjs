// A Socket.IO 4 node as it runs behind push-edge: plain Socket.IO, nothing added — no
// /health route, no sticky-session module, no cookie. The edge's default health check (a
// TCP connect) passes it while it listens; real traffic and that check take it out when it
// dies. Affinity rides in the Engine.IO sid (README.md in this folder).
//
//   npm install socket.io          # and your adapter, e.g. @socket.io/redis-adapter
//   NODE_ID=sio1 PORT=8080 node server.mjs      # PORT=0: any free port
// Prints one JSON line when it listens: {"event":"ready","id","url"}.
// test/integration/example-socketio.test.ts runs this file behind the edge.
import { createServer } from "node:http";
import { Server } from "socket.io";

const id = process.env.NODE_ID ?? "sio1";
const port = Number(process.env.PORT ?? 8080);
const http = createServer();

const io = new Server(http, {
  // Your CORS settings, unchanged. No `cookie` option: affinity does not ride on one.
  cors: { origin: ["https://app.example.org"] },
});
// Broadcasts across nodes still need an adapter, independent of session placement:
//   import { createAdapter } from "@socket.io/redis-adapter"; io.adapter(createAdapter(pub, sub));

io.on("connection", (socket) => {
  socket.emit("hello", { node: id });
  socket.on("echo", (data, ack) => typeof ack === "function" && ack({ data, node: id }));
});

process.on("SIGTERM", () => {
  io.close(() => process.exit(0));
});

http.listen(port, process.env.HOST ?? "0.0.0.0", () => {
  const { address, port: bound } = http.address();
  console.log(JSON.stringify({ event: "ready", id, url: `http://${address}:${bound}` }));
});
