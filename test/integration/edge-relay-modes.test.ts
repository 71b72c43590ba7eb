/**
 * Relay modes through the real local stack (issue 12): a session holding a WebSocket and
 * an SSE stream through the edge, idle past the runtime's idle period.
 * - `edge` (default): the session object hibernates — its constructor runs again on the
 *   next request (a `woke` event, `activity.wakes`) — while both legs, pumped by the edge
 *   Worker, keep flowing without a gap; an admin end afterwards still ends both legs in the
 *   protocol's words (close 1012, the stream's end).
 * - `object`: the same session keeps its object awake the whole time (no `woke`, active
 *   time covering the idle period): what eviction cannot do there.
 * And a Socket.IO session on long-polling, whose client always has a request waiting at
 * the server: in `edge` the Worker holds that request, so the object sleeps between polls.
 */
import { join } from "node:path";
import { io } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../infra/local/edge.ts";
import { startReadyProcess, type OriginProcess } from "../../infra/local/origin-process.ts";
import type { RunningStack } from "../../infra/local/stack.ts";
import { httpJson, openSse, openWebSocket, type SseStream, type WsClient } from "./support/http-clients.ts";
import { describeSession, endSession, until } from "./support/session-end.ts";
import { testStack } from "./support/stack.ts";
import { sleep, withTimeout } from "./support/wait.ts";
import { connectClient } from "./support/lightstreamer-client.ts";

/** Local workerd hibernates an object with nothing in flight after ~10 s; this waits past it. */
const IDLE_MS = 13_000;
/** Each look at the session wakes its object, so a late hibernation is waited for a few more times. */
const LOOKS = 4;

interface SessionBody {
  session: { relayMode: string };
  legs: Array<{ kind: string; isolate: string }>;
  activity: { wakes: number; activeMs: number; requests: number; webSocketMessages: number };
  events: Array<{ kind: string; detail: Record<string, unknown> }>;
}

/**
 * The session as the admin API shows it after the idle period: looked at (which wakes its
 * object) every IDLE_MS, up to LOOKS times, until a look finds it woke from a sleep.
 */
async function lookAfterIdle(stack: RunningStack, token: string): Promise<SessionBody> {
  let body: SessionBody | undefined;
  for (let look = 0; look < LOOKS; look++) {
    await sleep(IDLE_MS);
    body = (await describeSession(stack, token)).body as SessionBody;
    if (body.activity.wakes > 0) break;
  }
  if (body === undefined) throw new Error("no look at the session");
  return body;
}

/** Ticks seen on one leg, by sequence number; a gap is a tick the client never got. */
class TickLog {
  readonly seqs: number[] = [];
  gaps(): number[] {
    return this.seqs.filter((s, i) => i > 0 && s !== (this.seqs[i - 1] ?? 0) + 1);
  }
}

function collectWs(client: WsClient, log: TickLog): void {
  client.ws.on("message", (data: Buffer) => {
    const m = JSON.parse(data.toString("utf8")) as { type?: string; seq?: number };
    if (m.type === "tick" && typeof m.seq === "number") log.seqs.push(m.seq);
  });
}

async function collectSse(stream: SseStream, log: TickLog): Promise<void> {
  for (;;) {
    const event = await stream.next("a stream event").catch(() => undefined);
    if (event === undefined) return;
    const m = JSON.parse(event.data) as { type?: string; seq?: number };
    if (m.type === "tick" && typeof m.seq === "number") log.seqs.push(m.seq);
  }
}

for (const mode of ["edge", "object"] as const) {
  describe(`relay mode ${mode}`, () => {
    let stack: RunningStack;
    beforeAll(async () => {
      stack = await testStack({ originCount: 1, originArgs: ["--interval-ms", "250"], poolSettings: { relay: mode } });
    });
    afterAll(async () => {
      await stack?.close();
    });

    it("holds a WebSocket and a stream idle; then an admin end closes both in the protocol's words", { timeout: 120_000 }, async () => {
      const created = await httpJson(`${stack.edgeUrl}/session`, { method: "POST" });
      expect(created.status).toBe(201);
      const token = String(created.headers["x-affinity-token"]);
      const id = String((created.body as { id: string }).id);
      const auth = { "x-affinity-token": token };
      const ws = await openWebSocket(`${stack.edgeUrl.replace(/^http/, "ws")}/session/${id}/ws`, auth);
      const wsTicks = new TickLog();
      collectWs(ws, wsTicks);
      const stream = await openSse(`${stack.edgeUrl}/session/${id}/stream`, auth);
      const sseTicks = new TickLog();
      const sseDone = collectSse(stream, sseTicks);

      // Idle: nothing reaches the session object; look at it (which wakes it) only after the idle period.
      const body = await lookAfterIdle(stack, token);
      const idleFor = LOOKS * IDLE_MS;
      expect(body.session.relayMode).toBe(mode);
      if (mode === "edge") {
        // Hibernated and woken by the look: the constructor ran for the existing record.
        expect(body.activity.wakes).toBeGreaterThanOrEqual(1);
        expect(body.events.map((e) => e.kind)).toContain("woke");
        expect(body.legs.map((l) => l.kind).sort()).toEqual(["stream", "websocket"]);
        // Billable time is the requests' own, far below the time the legs were held.
        expect(body.activity.activeMs).toBeLessThan(IDLE_MS);
      } else {
        // Pinned by the relays it pumps: never hibernated, billable the whole time.
        expect(body.activity.wakes).toBe(0);
        expect(body.events.map((e) => e.kind)).not.toContain("woke");
        expect(body.activity.activeMs).toBeGreaterThanOrEqual(IDLE_MS);
        expect(body.activity.activeMs).toBeLessThanOrEqual(idleFor + 30_000);
      }
      // Both legs kept flowing the whole time, without a gap.
      const wsBefore = wsTicks.seqs.length;
      const sseBefore = sseTicks.seqs.length;
      await withTimeout(
        (async () => {
          while (wsTicks.seqs.length <= wsBefore || sseTicks.seqs.length <= sseBefore) await sleep(100);
        })(),
        10_000,
        "ticks after the idle period",
      );
      expect(wsTicks.seqs.length).toBeGreaterThan(IDLE_MS / 250 / 2);
      expect(sseTicks.seqs.length).toBeGreaterThan(IDLE_MS / 250 / 2);
      expect(wsTicks.gaps()).toEqual([]);
      expect(sseTicks.gaps()).toEqual([]);

      const ended = await endSession(stack, token, "admin", "relay modes test");
      expect(ended.body).toMatchObject({ ended: true });
      const closed = await ws.closed();
      expect(closed.code).toBe(1012);
      expect(closed.reason).toContain("ended by an operator");
      expect(await withTimeout(stream.ended(), 10_000, "the stream's end")).toMatch(/end|close/);
      await withTimeout(sseDone, 10_000, "the stream reader");

      const after = (await describeSession(stack, token)).body as SessionBody;
      const kinds = after.events.map((e) => e.kind);
      expect(kinds.slice(0, 1)).toEqual(["created"]);
      expect(after.events.find((e) => e.kind === "ended")?.detail).toEqual({ reason: "admin", detail: "relay modes test" });
      expect(kinds.indexOf("ended")).toBeGreaterThan(mode === "edge" ? kinds.indexOf("woke") : 0);
      if (mode === "edge") expect(after.legs).toEqual([]);
    });

    if (mode === "edge") {
      it("TLCP over HTTP-STREAMING: the object sleeps under a live stream, and END,48 still reaches the client", { timeout: 120_000 }, async () => {
        const client = connectClient(stack.edgeUrl, "HTTP-STREAMING", (c) => c.connectionOptions.setCookieHandlingRequired(false));
        try {
          await client.status("CONNECTED:HTTP-STREAMING");
          const token = client.client.connectionDetails.getSessionId() ?? "";
          const clock = client.subscribe("MERGE", ["clock"], ["seq", "origin"], "no");
          await clock.subscribed();
          const body = await lookAfterIdle(stack, token);
          expect(body.activity.wakes).toBeGreaterThanOrEqual(1);
          expect(body.legs.map((l) => l.kind)).toContain("stream");
          // Updates still flow on the stream the edge pumps.
          await clock.next("a clock update after the idle period");
          expect((await endSession(stack, token, "admin")).body).toMatchObject({ ended: true });
          // END,48 makes the client retry with a new session.
          await client.status("DISCONNECTED:WILL-RETRY");
          expect(client.serverErrors).toEqual([]);
        } finally {
          await client.close();
        }
      });
    }
  });
}

describe("relay mode edge: Socket.IO on long-polling, real server and client", () => {
  const SERVER = join(REPO_ROOT, "test", "integration", "support", "socketio-server.ts");
  let server: OriginProcess | undefined;
  let ioStack: RunningStack;

  beforeAll(async () => {
    server = await startReadyProcess(SERVER, "s1", ["--id", "s1"]);
    ioStack = await testStack({ origins: [{ id: server.id, url: server.url }], poolSettings: { relay: "edge" } });
  });
  afterAll(async () => {
    await ioStack?.close();
    await server?.stop();
  });

  it("the object sleeps while the server holds the client's poll; an admin end makes the client reconnect", { timeout: 120_000 }, async () => {
    // As an application runs it: polling only, the library's own reconnection delays.
    const socket = io(ioStack.edgeUrl, { transports: ["polling"] });
    try {
      let connects = 0;
      socket.on("connect", () => {
        connects += 1;
      });
      await until(() => (connects === 1 ? true : undefined), "the first connection");
      const sid = socket.io.engine.id;
      // The server answers a poll only with packets or its ping (every 25 s): between those,
      // nothing but the waiting poll — held by the edge Worker — is open.
      const body = await lookAfterIdle(ioStack, sid);
      expect(body.activity.wakes).toBeGreaterThanOrEqual(1);
      expect(body.events.map((e) => e.kind)).toContain("woke");
      expect(body.activity.activeMs).toBeLessThan(IDLE_MS);
      // The waiting poll is the session's one leg (none for the moment between two polls),
      // and polls stay out of the event log.
      expect(body.legs.length).toBeLessThanOrEqual(1);
      expect(body.legs.every((l) => l.kind === "poll")).toBe(true);
      expect(body.events.map((e) => e.kind)).not.toContain("stream_open");
      const ack = (await withTimeout(socket.timeout(10_000).emitWithAck("echo", "while polling"), 12_000, "the echo")) as { data: string };
      expect(ack.data).toBe("while polling");

      // The waiting poll is answered at once, in Engine.IO's words ("Session ID unknown").
      expect((await endSession(ioStack, sid, "admin")).body).toMatchObject({ ended: true });
      await until(() => (connects === 2 ? true : undefined), "the reconnection");
      expect(socket.io.engine.id).not.toBe(sid);
      const after = (await describeSession(ioStack, sid)).body as SessionBody;
      expect(after.legs).toEqual([]);
      expect(after.events.find((e) => e.kind === "ended")?.detail).toMatchObject({ reason: "admin" });
    } finally {
      socket.disconnect();
    }
  });
});
