/**
 * Issue 16 F5: a WebSocket client that never reads. Through the edge in workerd, in both
 * relay modes and over both transports, a client opens a session's WebSocket to a real
 * reference origin (which echoes every message), stops reading its socket, and sends far
 * more than any socket buffer on the way holds. Before the queue budget the edge queued
 * every echo for it (200 × 1 MiB took workerd from ~100 to ~700 MiB, held for as long as
 * the client kept its connection). Now the relay ends with 1013 once more than the pool's
 * `webSocketQueueBytes` wait for a side that does not read — the client (the echoes), or,
 * where the edge pauses a tcp origin instead, the origin (the client's own flood) — and a
 * client that reads again finds only a bounded backlog before the close.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningStack } from "../../infra/local/stack.ts";
import { httpJson, openWebSocket } from "./support/http-clients.ts";
import { describeSession } from "./support/session-end.ts";
import { testStack } from "./support/stack.ts";
import { sleep, withTimeout } from "./support/wait.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
const QUEUE_BYTES = 256 * KiB;
const MESSAGE_BYTES = 256 * KiB;
/** 40 MiB: far more than the kernel's and the runtime's buffers between edge and client hold. */
const MESSAGES = 160;
/** Pushes by the origin: 600 × 48 KiB = 28 MiB at most, well past every buffer on the way. */
const EMITS = 600;
/** The relay must end within this, however loaded the machine. */
const END_MS = 30_000;

interface SessionEvents {
  events: Array<{ kind: string; detail: { side?: string; code?: number; reason?: string } }>;
}

for (const transport of ["fetch", "tcp"] as const) {
  for (const mode of ["edge", "object"] as const) {
    describe(`a client that reads nothing (relay mode ${mode}, ${transport} transport)`, () => {
      let stack: RunningStack;
      beforeAll(async () => {
        const tcp = transport === "tcp";
        stack = await testStack({
          originCount: 1,
          originArgs: ["--interval-ms", "0", ...(tcp ? ["--proxy", "require"] : [])],
          ...(tcp ? { originTransport: { transport: "tcp", proxy: { version: 1 } } } : {}),
          poolSettings: { relay: mode, limits: { webSocketQueueBytes: QUEUE_BYTES } },
        });
      });
      afterAll(async () => {
        await stack?.close();
      });

      it("gets its WebSocket closed with 1013 once the budget is queued, not 40 MiB of echoes held for it", { timeout: 90_000 }, async () => {
        const client = await openWebSocket(`${stack.edgeUrl.replace(/^http/, "ws")}/ws?interval_ms=0`);
        expect(await client.nextJson("the origin's hello")).toMatchObject({ type: "hello" });
        const token = String(client.upgradeHeaders["x-affinity-token"]);
        client.ws.pause();
        for (let i = 0; i < MESSAGES; i++) client.ws.send(randomBytes(MESSAGE_BYTES), { binary: true });

        // The session object records how its WebSocket ended; before the budget, it never did.
        const closed = await webSocketClose(stack, token);
        expect(closed.code).toBe(1013);
        expect(closed.reason).toMatch(new RegExp(`^(client|origin) is not reading: over ${QUEUE_BYTES} bytes queued for it$`));

        // Reading again, the client finds what was queued for it — bounded — then the close.
        let received = 0;
        client.ws.on("message", (data: Buffer) => {
          received += data.length;
        });
        client.ws.resume();
        const end = await client.closed();
        expect(end.code).toBe(1013);
        expect(end.reason).toBe(closed.reason);
        expect(received).toBeLessThan(12 * MiB);
      });

      it(
        transport === "tcp"
          ? "pushed to by its origin: the edge stops reading the origin, which is left holding its own queue"
          : "pushed to by its origin: its WebSocket closes with 1013 once the budget is queued for it",
        { timeout: 90_000 },
        async () => {
          const client = await openWebSocket(`${stack.edgeUrl.replace(/^http/, "ws")}/ws?interval_ms=0`);
          expect(await client.nextJson("the origin's hello")).toMatchObject({ type: "hello" });
          const token = String(client.upgradeHeaders["x-affinity-token"]);
          const id = String(client.upgradeHeaders["x-session-id"]);
          client.ws.pause();
          // The origin pushes (control "emit", 48 KiB each: its command bodies are capped at
          // 64 KiB) until it has no subscriber left for the session's feed.
          let pushed = 0;
          for (let i = 0; i < EMITS; i++) {
            const res = await httpJson(`${stack.edgeUrl}/session/${id}/control`, {
              method: "POST",
              headers: { "x-affinity-token": token },
              body: { cmd: "emit", data: randomBytes(36 * KiB).toString("base64") },
            });
            expect(res.status).toBe(200);
            if ((res.body as { delivered: number }).delivered === 0) break;
            pushed += 48 * KiB;
          }
          let received = 0;
          client.ws.on("message", (data: Buffer) => {
            received += data.length;
          });
          client.ws.resume();
          const end = await client.closed();
          if (transport === "tcp") {
            // The edge never ended it: it stopped reading the origin, whose own queue then
            // passed the reference origin's 4 MiB limit for a peer that does not read, and
            // the origin dropped the connection (the edge's 1011 "peer connection lost").
            // What the client finally got includes the kernel's buffers on both hops (the
            // edge reads its own once the client reads again); the rest of what the origin
            // pushed never left it.
            expect(end).toEqual({ code: 1011, reason: "peer connection lost" });
            expect(pushed).toBeGreaterThan(received);
          } else {
            expect(end).toEqual({ code: 1013, reason: `client is not reading: over ${QUEUE_BYTES} bytes queued for it` });
            // The budget plus the socket buffers between edge and client.
            expect(received).toBeLessThan(9 * MiB);
          }
        },
      );
    });
  }
}

/** The session's `websocket_close` event, polled for at most END_MS. */
async function webSocketClose(stack: RunningStack, token: string): Promise<{ code: number; reason: string }> {
  const deadline = Date.now() + END_MS;
  for (;;) {
    const res = await withTimeout(describeSession(stack, token), 10_000, "the session's event log");
    const close = (res.body as SessionEvents).events.find((e) => e.kind === "websocket_close");
    if (close !== undefined) return { code: Number(close.detail.code), reason: String(close.detail.reason) };
    if (Date.now() > deadline) throw new Error(`timed out after ${END_MS} ms waiting for the session's WebSocket to end while its client reads nothing`);
    await sleep(200);
  }
}
