/**
 * What an idle Socket.IO session on the long-polling transport costs its session object,
 * per relay mode: N real `socket.io-client`s held on `transports: ["polling"]` through the
 * edge to an unmodified Socket.IO server, idle (the server's pings every 25 s are all that
 * happens), then each session's own activity meter read through the admin API. An
 * Engine.IO client always has one long-poll waiting at the server; in mode `object` that
 * request waits inside the session object, in mode `edge` the Worker holds it.
 *
 *   node tools/profile/polling-idle-cost.ts [--clients 20] [--idle-ms 60000]
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server } from "socket.io";
import { io as connect, type Socket } from "socket.io-client";
import { startStack } from "../../infra/local/stack.ts";
import { toolArgs } from "./tool-args.ts";

const values = toolArgs(import.meta.url, { clients: { type: "string", default: "20" }, "idle-ms": { type: "string", default: "60000" } });
const clients = Number(values.clients);
const idleMs = Number(values["idle-ms"]);
/** The longest a client may take to connect. */
const CONNECT_MS = 10_000;

const http = createServer();
new Server(http);
await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
const originUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

try {
  for (const relay of ["edge", "object"] as const) {
    const stack = await startStack({ port: 0, prebuilt: true, origins: [{ id: "sio", url: originUrl }], poolSettings: { relay } });
    const sockets: Socket[] = [];
    try {
      for (let i = 0; i < clients; i++) sockets.push(await connected(stack.edgeUrl));
      const started = Date.now();
      const before = await Promise.all(sockets.map((s) => activity(stack.edgeUrl, stack.adminToken, s)));
      await new Promise((r) => setTimeout(r, idleMs));
      const after = await Promise.all(sockets.map((s) => activity(stack.edgeUrl, stack.adminToken, s)));
      const wallMs = Date.now() - started;
      const awake = after.map((a, i) => a.activeMs - (before[i]?.activeMs ?? 0));
      const requests = after.map((a, i) => a.requests - (before[i]?.requests ?? 0));
      const still = sockets.filter((s) => s.connected).length;
      console.log(
        `relay ${relay}: ${clients} polling sessions idle ${(wallMs / 1000).toFixed(0)} s, ${still} still connected; ` +
          `session object awake ${pct(awake.map((ms) => (100 * ms) / wallMs))}% of the time (mean), ` +
          `${((mean(requests) * 60_000) / wallMs).toFixed(1)} object requests a minute per session`,
      );
    } finally {
      for (const s of sockets) s.disconnect();
      await stack.close();
    }
  }
} finally {
  http.close();
}

function connected(edgeUrl: string): Promise<Socket> {
  const socket = connect(edgeUrl, { transports: ["polling"], reconnection: false, timeout: CONNECT_MS });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("a client did not connect within 10 s")), CONNECT_MS);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once("connect_error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** The session object's own meter, through the admin API; the session key is in the sid (the token). */
async function activity(edgeUrl: string, adminToken: string, socket: Socket): Promise<{ activeMs: number; requests: number }> {
  const token = socket.io.engine.id;
  const { sk } = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as { sk: string };
  const res = await fetch(`${edgeUrl}/_edge/admin/sessions/${sk}`, { headers: { authorization: `Bearer ${adminToken}` } });
  const body = (await res.json()) as { activity?: { activeMs: number; requests: number } };
  if (body.activity === undefined) throw new Error(`no activity for session ${sk} (admin answered ${res.status})`);
  return body.activity;
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}

function pct(xs: number[]): string {
  return mean(xs).toFixed(2);
}
