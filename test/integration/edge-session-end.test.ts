/**
 * Ending live sessions on purpose through the real local stack (the admin API's
 * `POST /_edge/admin/sessions/:sk/end`, the same path a drain, rebalance or expiry takes):
 * each protocol's real client is told in its own words, opens a new session through the
 * edge by itself, and keeps receiving data. Generic clients hear a close 1012 or the end
 * of their stream, and their old token gets 404 session_not_found.
 */
import { join } from "node:path";
import { io, type Socket } from "socket.io-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../infra/local/edge.ts";
import { startReadyProcess, type OriginProcess } from "../../infra/local/origin-process.ts";
import type { RunningStack } from "../../infra/local/stack.ts";
import { httpJson, openSse, openWebSocket } from "./support/http-clients.ts";
import { connectClient, type TestClient, type Transport } from "./support/lightstreamer-client.ts";
import { describeSession, endSession, until } from "./support/session-end.ts";
import { testStack } from "./support/stack.ts";
import { withTimeout } from "./support/wait.ts";

let stack: RunningStack;
const clients: TestClient[] = [];

beforeAll(async () => {
  stack = await testStack({ originCount: 3, originArgs: ["--interval-ms", "100", "--tlcp-clock-ms", "50"] });
});
afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await stack?.close();
});

describe("ending a generic session", () => {
  it("closes its WebSocket with 1012; the client's new session works and the old token is gone", async () => {
    const wsUrl = `${stack.edgeUrl.replace(/^http/, "ws")}/ws?announce_affinity=1`;
    const first = await openWebSocket(wsUrl);
    const token = String((await first.nextJson("the token")).token);
    expect(await first.nextJson("hello")).toMatchObject({ type: "hello" });

    const ended = await endSession(stack, token, "admin", "integration test");
    expect(ended.status).toBe(200);
    expect(ended.body).toMatchObject({ ended: true, session: { state: "ended", endedReason: "admin" } });

    const closed = await first.closed();
    expect(closed.code).toBe(1012);
    expect(closed.reason).toContain("ended by an operator");
    // The client reconnects the only way a generic client can: a new session (S).
    const second = await openWebSocket(wsUrl);
    const newToken = String((await second.nextJson("the new token")).token);
    expect(newToken).not.toBe(token);
    expect(await second.nextJson("hello again")).toMatchObject({ type: "hello" });
    expect(await second.nextJson("a tick")).toMatchObject({ type: "tick" });
    second.ws.close(1000);
    await second.closed();

    const again = await endSession(stack, token);
    expect(again.body).toMatchObject({ ended: false });
  });

  it("ends its SSE stream, and later requests with its token get 404 session_not_found", async () => {
    const created = await httpJson(`${stack.edgeUrl}/session`, { method: "POST" });
    const token = String(created.headers["x-affinity-token"]);
    const id = String((created.body as { id: string }).id);
    const stream = await openSse(`${stack.edgeUrl}/session/${id}/stream`, { "x-affinity-token": token });
    await stream.next("a first event");

    expect((await endSession(stack, token, "rebalance")).status).toBe(200);

    expect(["end", "close"]).toContain(await stream.ended());
    const later = await httpJson(`${stack.edgeUrl}/session/${id}/control`, {
      method: "POST",
      headers: { "x-affinity-token": token },
      body: { cmd: "echo", data: 1 },
    });
    expect(later.status).toBe(404);
    expect(later.body).toEqual({ error: "session_not_found", message: expect.any(String) });
    const record = await describeSession(stack, token);
    expect(record.body).toMatchObject({ session: { state: "ended", endedReason: "rebalance" } });
    const events = (record.body as { events: Array<{ kind: string; detail: unknown }> }).events;
    expect(events.find((e) => e.kind === "ended")?.detail).toEqual({ reason: "rebalance", detail: null });
  });
});

describe("ending a TLCP session, real Lightstreamer client", () => {
  for (const transport of ["WS-STREAMING", "HTTP-STREAMING"] as const satisfies readonly Transport[]) {
    it(`${transport}: END,48 makes the client create a new session by itself and resume its subscription`, async () => {
      const client = connectClient(stack.edgeUrl, transport, (c) => c.connectionOptions.setCookieHandlingRequired(false));
      clients.push(client);
      await client.status(`CONNECTED:${transport}`);
      // Every update, tagged with the session it arrived in.
      const seen: Array<{ session: string; origin: string }> = [];
      const clock = client.subscribe("MERGE", ["clock"], ["seq", "ts", "origin"], "no");
      clock.subscription.addListener({
        onItemUpdate: (update) => seen.push({ session: client.client.connectionDetails.getSessionId() ?? "", origin: update.getValue("origin") ?? "" }),
      });
      await clock.subscribed();
      const token = client.client.connectionDetails.getSessionId() ?? "";
      await until(() => (seen.some((u) => u.session === token) ? true : undefined), "an update in the first session");

      expect((await endSession(stack, token, "drain")).body).toMatchObject({ ended: true });

      // END,48 is a "retry" cause: the client goes through DISCONNECTED:WILL-RETRY, creates
      // a new session through the edge, and re-subscribes on its own.
      await client.status("DISCONNECTED:WILL-RETRY");
      const renewed = await until(() => {
        const id = client.client.connectionDetails.getSessionId();
        return client.client.getStatus() === `CONNECTED:${transport}` && id !== null && id !== token ? id : undefined;
      }, "a new session");
      expect(renewed.split(".")).toHaveLength(3);
      const update = await until(() => seen.find((u) => u.session === renewed), "an update in the new session");
      expect(["o1", "o2", "o3"]).toContain(update.origin);
      expect(client.serverErrors).toEqual([]);
      expect((await describeSession(stack, token)).body).toMatchObject({ session: { state: "ended", endedReason: "drain" } });
    });
  }
});

describe("ending an Engine.IO session, real socket.io client", () => {
  const SERVER = join(REPO_ROOT, "test", "integration", "support", "socketio-server.ts");
  let servers: OriginProcess[] = [];
  let ioStack: RunningStack;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    servers = await Promise.all(["s1", "s2"].map((id) => startReadyProcess(SERVER, id, ["--id", id])));
    ioStack = await testStack({ origins: servers.map((s) => ({ id: s.id, url: s.url })) });
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.disconnect();
  });
  afterAll(async () => {
    await ioStack?.close();
    await Promise.all(servers.map((s) => s.stop()));
  });

  // What the client sees: its WebSocket closing, or its long-poll answered "Session ID
  // unknown" (400). Both are reasons socket.io-client reconnects after, unlike "io server
  // disconnect".
  const modes = [
    ["websocket-only", ["websocket"], "transport close"],
    ["polling-only", ["polling"], "transport error"],
    ["polling-then-upgrade", ["polling", "websocket"], "transport close"],
  ] as const;
  for (const [mode, transports, reason] of modes) {
    it(`${mode}: the transport closes, socket.io-client reconnects by itself to a new session`, async () => {
      // Reconnection on (the default), with short delays so the test need not wait long.
      const socket = io(ioStack.edgeUrl, { transports: [...transports], forceNew: true, reconnectionDelay: 100, reconnectionDelayMax: 500 });
      sockets.push(socket);
      const hellos: string[] = [];
      const disconnects: string[] = [];
      let connects = 0;
      socket.on("hello", (hello: { origin: string }) => hellos.push(hello.origin));
      socket.on("disconnect", (reason) => disconnects.push(reason));
      socket.on("connect", () => {
        connects += 1;
      });
      await until(() => (connects === 1 && hellos.length === 1 ? true : undefined), "the first connection");
      const sid = socket.io.engine.id;
      expect(sid.split(".")).toHaveLength(3);
      if (transports.length > 1) await until(() => (socket.io.engine.transport.name === "websocket" ? true : undefined), "the upgrade");

      expect((await endSession(ioStack, sid, "drain")).body).toMatchObject({ ended: true });

      await until(() => (connects === 2 && hellos.length === 2 ? true : undefined), "the reconnection");
      expect(disconnects).toEqual([reason]);
      expect(socket.io.engine.id).not.toBe(sid);
      expect(socket.io.engine.id.split(".")).toHaveLength(3);
      const ack = (await withTimeout(socket.timeout(10_000).emitWithAck("echo", "after"), 12_000, "the echo")) as { data: string; origin: string };
      expect(ack.data).toBe("after");
      expect(["s1", "s2"]).toContain(ack.origin);
    });
  }
});
