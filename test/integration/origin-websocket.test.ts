// The generic protocol over WebSocket: hello, verbatim echo (text and binary), emitted
// events, ticks, close semantics, and HTTP answers (with X-Origin-Id) to refused upgrades.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOrigin, type RunningOrigin } from "../../infra/origin/origin.ts";
import { WebSocket } from "ws";
import { httpJson, openSse, openWebSocket, rejectedUpgrade } from "./support/http-clients.ts";
import { rawExchange, rawStatus } from "./support/raw-tcp.ts";
import { WAIT_MS, withTimeout } from "./support/wait.ts";

describe("generic protocol over WebSocket", () => {
  let origin: RunningOrigin;
  let http: string;
  let ws: string;
  let controlWs: string;
  let createWs: string;

  beforeAll(async () => {
    origin = await startOrigin({
      id: "ws-1",
      listeners: [
        { kind: "combined", host: "127.0.0.1", port: 0 },
        { kind: "create", host: "127.0.0.1", port: 0 },
        { kind: "control", host: "127.0.0.1", port: 0 },
      ],
      intervalMs: 0,
    });
    const [combined, create, control] = origin.listeners;
    if (combined === undefined || create === undefined || control === undefined) throw new Error("listeners missing");
    http = combined.url;
    ws = combined.url.replace("http:", "ws:");
    createWs = create.url.replace("http:", "ws:");
    controlWs = control.url.replace("http:", "ws:");
  });
  afterAll(async () => {
    await origin.close();
  });

  it("GET /ws creates a session, says hello, and carries X-Origin-Id / X-Session-Id on the 101", async () => {
    const client = await openWebSocket(`${ws}/ws`);
    try {
      expect(client.upgradeHeaders["x-origin-id"]).toBe("ws-1");
      const hello = await client.nextJson("hello");
      expect(hello).toMatchObject({ type: "hello", origin: "ws-1", client: "127.0.0.1" });
      expect(typeof hello.session).toBe("string");
      expect(client.upgradeHeaders["x-session-id"]).toBe(hello.session);
      const info = await httpJson(`${http}/session/${String(hello.session)}`);
      expect(info.status).toBe(200);
    } finally {
      client.ws.close();
    }
  });

  it("echoes text as text and binary as binary, byte for byte", async () => {
    const client = await openWebSocket(`${ws}/ws`);
    try {
      await client.nextJson("hello");
      client.ws.send("héllo, wörld");
      const text = await client.next("text echo");
      expect(text.isBinary).toBe(false);
      expect(text.data.toString("utf8")).toBe("héllo, wörld");

      const bytes = Buffer.from([0, 255, 1, 254, 10, 13]);
      client.ws.send(bytes, { binary: true });
      const binary = await client.next("binary echo");
      expect(binary.isBinary).toBe(true);
      expect(binary.data.equals(bytes)).toBe(true);
    } finally {
      client.ws.close();
    }
  });

  it("GET /session/:id/ws attaches to an existing session; emit reaches SSE and WebSocket alike", async () => {
    const created = await httpJson(`${http}/session`, { method: "POST" });
    const sid = (created.body as { id: string }).id;
    const client = await openWebSocket(`${ws}/session/${sid}/ws`);
    const stream = await openSse(`${http}/session/${sid}/stream?interval_ms=0`);
    try {
      expect(await client.nextJson("hello")).toMatchObject({ type: "hello", session: sid, origin: "ws-1" });
      const emit = await httpJson(`${http}/session/${sid}/control`, { method: "POST", body: { cmd: "emit", data: { x: 1 } } });
      expect(emit.body).toMatchObject({ delivered: 2 });
      expect(await client.nextJson("emit over ws")).toEqual({ type: "emit", seq: 1, origin: "ws-1", session: sid, data: { x: 1 } });
      expect(JSON.parse((await stream.next("emit over SSE")).data)).toMatchObject({ type: "emit", data: { x: 1 } });
    } finally {
      stream.close();
      client.ws.close();
    }
  });

  it("sends ticks as JSON text frames and closes with 1000 after count", async () => {
    const client = await openWebSocket(`${ws}/ws?interval_ms=20&count=2`);
    const hello = await client.nextJson("hello");
    const first = await client.nextJson("tick 1");
    const second = await client.nextJson("tick 2");
    expect(first).toMatchObject({ type: "tick", seq: 1, origin: "ws-1", session: hello.session, client: "127.0.0.1" });
    expect(second).toMatchObject({ type: "tick", seq: 2 });
    expect(await client.closed()).toEqual({ code: 1000, reason: "count reached" });
  });

  it("closes WebSockets with 1000 when the session is closed by a control command", async () => {
    const client = await openWebSocket(`${ws}/ws`);
    const hello = await client.nextJson("hello");
    await httpJson(`${http}/session/${String(hello.session)}/control`, { method: "POST", body: { cmd: "close" } });
    expect((await client.closed()).code).toBe(1000);
  });

  it("answers the client's close code and reason", async () => {
    const client = await openWebSocket(`${ws}/ws`);
    await client.nextJson("hello");
    client.ws.close(4001, "bye now");
    expect(await client.closed()).toEqual({ code: 4001, reason: "bye now" });
  });

  it("refuses upgrades with JSON HTTP errors carrying X-Origin-Id", async () => {
    const unknown = await rejectedUpgrade(`${ws}/session/nosuchsession/ws`);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: "session_not_found" });
    expect(unknown.headers["x-origin-id"]).toBe("ws-1");

    const wrongCreate = await rejectedUpgrade(`${controlWs}/ws`);
    expect(wrongCreate.status).toBe(404);
    expect(wrongCreate.body).toMatchObject({ error: "wrong_listener" });
    const created = await httpJson(`${http}/session`, { method: "POST" });
    const wrongControl = await rejectedUpgrade(`${createWs}/session/${(created.body as { id: string }).id}/ws`);
    expect(wrongControl.body).toMatchObject({ error: "wrong_listener" });

    const notWs = await rejectedUpgrade(`${ws}/health`);
    expect(notWs.status).toBe(400);
    expect(notWs.headers["x-origin-id"]).toBe("ws-1");

    origin.setState("blocked");
    try {
      const blocked = await rejectedUpgrade(`${ws}/ws`);
      expect(blocked.status).toBe(503);
      expect(blocked.body).toMatchObject({ error: "origin_blocked" });
    } finally {
      origin.setState("active");
    }

    // A handshake without a valid key never reaches ws's own plain-text error path.
    const port = Number(new URL(http).port);
    const badKey = await rawExchange(port, [
      "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: short\r\n\r\n",
    ]);
    expect(rawStatus(badKey.response)).toBe(400);
    expect(badKey.response).toMatch(/X-Origin-Id: ws-1/);
    expect(badKey.response).toMatch(/bad_websocket_handshake/);
  });

  it("pings at the configured period and drops a peer that never answers", async () => {
    const pinging = await startOrigin({
      id: "ws-ping",
      listeners: [{ kind: "combined", host: "127.0.0.1", port: 0 }],
      intervalMs: 0,
      pingIntervalMs: 200, // generous: a pong must come back within one period
    });
    try {
      const url = `${pinging.listeners[0]?.url.replace("http:", "ws:") ?? ""}/ws`;
      const polite = await openWebSocket(url);
      const pinged = new Promise<void>((resolve) => polite.ws.once("ping", () => resolve()));
      await withTimeout(pinged, WAIT_MS, "a protocol ping");
      // A peer that answers pings stays connected across several periods.
      for (let i = 0; i < 3; i++) {
        await withTimeout(new Promise<void>((resolve) => polite.ws.once("ping", () => resolve())), WAIT_MS, "another ping");
      }
      expect(polite.ws.readyState).toBe(WebSocket.OPEN);
      polite.ws.close();

      const mute = new WebSocket(url, { autoPong: false });
      mute.on("error", () => {});
      const code = await withTimeout(
        new Promise<number>((resolve) => mute.once("close", (closeCode) => resolve(closeCode))),
        WAIT_MS,
        "the origin to drop a peer that does not pong",
      );
      expect(code).toBe(1006); // terminated, no close frame
    } finally {
      await pinging.close();
    }
  });

  it("closes open WebSockets with 1001 when the origin shuts down", async () => {
    const own = await startOrigin({ id: "ws-2", listeners: [{ kind: "combined", host: "127.0.0.1", port: 0 }], intervalMs: 0 });
    const client = await openWebSocket(`${own.listeners[0]?.url.replace("http:", "ws:") ?? ""}/ws`);
    await client.nextJson("hello");
    const closing = own.close();
    expect((await client.closed()).code).toBe(1001);
    await closing;
  });
});
