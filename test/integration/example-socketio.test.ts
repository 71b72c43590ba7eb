/**
 * infra/examples/socketio/ as written: two `server.mjs` nodes (plain Socket.IO, no sticky
 * module, no cookie) behind the edge, real socket.io-client clients through it — each
 * stays on one node — and `push-edge drain` moves one node's clients to the other, which
 * they do by themselves.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { io, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../infra/local/edge.ts";
import type { RunningStack } from "../../infra/local/stack.ts";
import { runCli } from "./support/push-edge-cli.ts";
import { testStack } from "./support/stack.ts";
import { withTimeout } from "./support/wait.ts";

const SERVER = join(REPO_ROOT, "infra", "examples", "socketio", "server.mjs");
const CLIENTS = 12;
/** Fast health rounds, so the drain's progress shows within a second or two. */
const FAST = { health: { intervalMs: 500, timeoutMs: 400, rise: 1, fall: 1 }, slowStartSeconds: 0, rebalance: { enabled: false } };

const nodes: ChildProcess[] = [];
let stack: RunningStack;

async function startNode(id: string): Promise<string> {
  const child = spawn(process.execPath, [SERVER], { cwd: REPO_ROOT, env: { ...process.env, NODE_ID: id, PORT: "0", HOST: "127.0.0.1" }, stdio: ["ignore", "pipe", "pipe"] });
  nodes.push(child);
  return withTimeout(
    new Promise<string>((resolve, reject) => {
      child.once("exit", (code) => reject(new Error(`${id} exited with ${code}`)));
      createInterface({ input: child.stdout }).on("line", (line) => {
        const event = JSON.parse(line) as { event?: string; url?: string };
        if (event.event === "ready" && event.url !== undefined) resolve(event.url);
      });
    }),
    15_000,
    `${id} to listen`,
  );
}

beforeAll(async () => {
  const urls = await Promise.all(["sio1", "sio2"].map(startNode));
  stack = await testStack({ origins: urls.map((url, i) => ({ id: `sio${i + 1}`, url })), poolSettings: FAST });
});
afterAll(async () => {
  await stack?.close();
  for (const n of nodes) n.kill("SIGTERM");
});

describe("infra/examples/socketio behind the edge", () => {
  it("keeps each client on one node without a sticky module, and a drain moves them to the other node", async () => {
    const sockets: Socket[] = [];
    /** Each client's node, from the server's hello (one per session). */
    const nodeOf: string[] = [];
    const hellos: string[][] = [];
    try {
      for (let i = 0; i < CLIENTS; i++) {
        hellos.push([]);
        const socket = io(stack.edgeUrl, { forceNew: true, reconnectionDelay: 100, reconnectionDelayMax: 500 });
        socket.on("hello", (m: { node: string }) => {
          nodeOf[i] = m.node;
          hellos[i]?.push(m.node);
        });
        sockets.push(socket);
      }
      const until = async (check: () => boolean, what: string, ms = 30_000) =>
        withTimeout(
          (async () => {
            while (!check()) await new Promise((r) => setTimeout(r, 50));
          })(),
          ms,
          what,
        );
      await until(() => nodeOf.filter((n) => n !== undefined).length === CLIENTS, "every client's hello");
      // Round trips after the upgrade: every ack comes from the node that said hello.
      for (const [i, socket] of sockets.entries()) {
        const ack = (await socket.timeout(10_000).emitWithAck("echo", i)) as { data: number; node: string };
        expect(ack).toEqual({ data: i, node: nodeOf[i] });
      }
      const onSio1 = nodeOf.filter((n) => n === "sio1").length;
      expect(onSio1, "P2C placed some clients on each node").toBeGreaterThan(0);
      expect(onSio1).toBeLessThan(CLIENTS);

      const drained = await runCli(["drain", "sio1", "--rate", "20", "--timeout", "60", "--json"], { PUSH_EDGE_URL: stack.edgeUrl, PUSH_EDGE_ADMIN_TOKEN: stack.adminToken }, 90_000);
      expect(drained.code).toBe(0);
      expect(JSON.parse(drained.stdout)).toMatchObject({ origin: "sio1", remaining: 0, done: true });
      // socket.io-client reconnected by itself, through the edge, onto sio2.
      await until(() => nodeOf.every((n) => n === "sio2") && sockets.every((s) => s.connected), "every client back, on sio2");
      const moved = hellos.filter((h) => h[0] === "sio1");
      expect(moved.length).toBe(onSio1);
      for (const h of moved) expect(h.at(-1)).toBe("sio2");
      for (const [i, socket] of sockets.entries()) {
        expect(((await socket.timeout(10_000).emitWithAck("echo", i)) as { node: string }).node).toBe("sio2");
      }
    } finally {
      for (const s of sockets) s.disconnect();
    }
  });
});
