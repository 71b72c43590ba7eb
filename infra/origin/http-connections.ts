// Tracks the sockets the HTTP server owns, so shutdown can be quick without being rude:
// idle keep-alive connections are ended at once, a connection still answering a request
// is ended as soon as that response finishes, and upgraded (WebSocket) sockets are left
// to their close handshake. Whatever remains after the grace period is destroyed.
// (http.Server.closeIdleConnections() only knows servers that listen themselves; ours
// receives sockets from the proxy listeners.)

import type { Server } from "node:http";
import type { Socket } from "node:net";

export type HttpConnections = {
  add(socket: Socket): void;
  /** Ends idle sockets now and busy ones when they become idle; resolves when all are
   * gone or `graceMs` has passed, then destroys the stragglers. */
  drain(graceMs: number): Promise<void>;
};

export function trackHttpConnections(server: Server): HttpConnections {
  const sockets = new Set<Socket>();
  const inFlight = new Map<Socket, number>();
  const upgraded = new WeakSet<object>();
  let draining = false;

  server.on("request", (req, res) => {
    const socket = req.socket;
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    res.once("close", () => {
      const left = (inFlight.get(socket) ?? 1) - 1;
      if (left > 0) inFlight.set(socket, left);
      else inFlight.delete(socket);
      if (draining && left <= 0) socket.end();
    });
  });
  server.on("upgrade", (req) => {
    upgraded.add(req.socket);
  });

  return {
    add(socket) {
      sockets.add(socket);
      socket.once("close", () => {
        sockets.delete(socket);
        inFlight.delete(socket);
      });
    },
    async drain(graceMs) {
      draining = true;
      for (const socket of sockets) {
        if (!upgraded.has(socket) && !inFlight.has(socket)) socket.end();
      }
      const deadline = Date.now() + graceMs;
      while (sockets.size > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      for (const socket of sockets) socket.destroy();
    },
  };
}
