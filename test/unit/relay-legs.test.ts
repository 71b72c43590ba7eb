/**
 * Relay mode `edge` inside workerd: the session object admits long-lived legs without
 * relaying them (a WebSocket grant, a stream handed back untouched), keeps them in SQLite
 * across eviction, learns when they close, and ends them through the pumping isolate's hub
 * — or records them lost when no isolate can be reached. The hub passes ends down its
 * control socket and reports an isolate's legs lost when its socket is gone.
 */
import { env } from "cloudflare:workers";
import { evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { decodeGrant, LEG_HEADER } from "../../durable-objects/session/leg-grant.ts";
import { sessionStub } from "../../durable-objects/session/stub.ts";
import { hubStub } from "../../durable-objects/hub/stub.ts";
import { isolateFrames, parseHubMessage, type EndLegsMessage } from "../../durable-objects/hub/control-messages.ts";
import { createRoute, eventually, fakeOrigin, FakeOriginStream, ORIGIN, relayRoute, routed, upgrade } from "./support/session-harness.ts";

async function edgeSession(): Promise<{ sk: string; stub: ReturnType<typeof sessionStub> }> {
  const sk = crypto.randomUUID();
  const stub = sessionStub(env, sk);
  fakeOrigin(() => new Response("created", { status: 200, headers: { "content-length": "7", "x-session-id": "sid-1" } }));
  const res = await stub.fetch(routed("/session", createRoute(sk, "generic", { relay: "edge" }), { method: "POST" }));
  expect(res.status).toBe(200);
  await res.text();
  return { sk, stub };
}

/** A control socket to a hub, as an isolate holds it: what the hub sends, as parsed end messages, and whether it said `ready`. */
async function controlSocket(isolate: string): Promise<{ socket: WebSocket; ends: EndLegsMessage[]; ready: () => boolean }> {
  const res = await hubStub(env, isolate).fetch("https://hub/control", { headers: { upgrade: "websocket" } });
  const socket = res.webSocket;
  if (socket === null) throw new Error(`hub answered ${res.status}`);
  socket.accept();
  const ends: EndLegsMessage[] = [];
  let ready = false;
  socket.addEventListener("message", (event) => {
    const m = typeof event.data === "string" ? parseHubMessage(event.data) : undefined;
    if (m?.t === "ready") ready = true;
    else if (m !== undefined) ends.push(m);
  });
  return { socket, ends, ready: () => ready };
}

/** An edge-mode session with a WebSocket leg of a new isolate, which announced it on its control socket. */
async function announcedLeg() {
  const { sk, stub } = await edgeSession();
  const isolate = crypto.randomUUID();
  const control = await controlSocket(isolate);
  const res = await stub.fetch(routed("/session/x/ws", { ...relayRoute(sk), isolate }, upgrade));
  const leg = decodeGrant(res.headers.get(LEG_HEADER))?.leg ?? "";
  control.socket.send(JSON.stringify({ t: "hello", legs: [[sk, leg]] }));
  const hub = hubStub(env, isolate);
  await eventually(async () => ((await hub.describe()).legs === 1 ? true : undefined), "the hub to know the leg");
  return { sk, stub, isolate, control, leg, hub };
}

describe("leg admission (relay mode edge)", () => {
  it("grants a WebSocket leg without contacting the origin, and keeps it across eviction", async () => {
    const { sk, stub } = await edgeSession();
    const origin = fakeOrigin(() => new Response("never", { status: 500 }));
    const res = await stub.fetch(routed("/session/x/ws", { ...relayRoute(sk), isolate: "iso-1" }, upgrade));
    expect(res.status).toBe(204);
    const grant = decodeGrant(res.headers.get(LEG_HEADER));
    expect(grant).toMatchObject({ kind: "websocket", origin: { url: ORIGIN.url, originSessionId: "sid-1", transport: { kind: "fetch" } } });
    expect(origin).not.toHaveBeenCalled();

    await evictDurableObject(stub);
    const view = await stub.describe();
    expect(view.legs).toEqual([expect.objectContaining({ id: grant?.leg, kind: "websocket", isolate: "iso-1" })]);
    expect(view.openWebSockets).toBe(1);
    expect(view.activity.wakes).toBe(1);
    expect(view.events.map((e) => e.kind)).toEqual(["created", "websocket_open", "woke"]);

    await stub.legClosed(grant?.leg ?? "", "websocket", "client", 1000, "bye");
    const after = await stub.describe();
    expect(after.legs).toEqual([]);
    expect(after.events.at(-1)).toMatchObject({ kind: "websocket_close", detail: { leg: grant?.leg, side: "client", code: 1000 } });
  });

  it("relays a WebSocket itself when the request names no isolate, or the session is in mode object", async () => {
    const { sk, stub } = await edgeSession();
    const origin = fakeOrigin(() => new Response("refused", { status: 403 }));
    expect((await stub.fetch(routed("/session/x/ws", relayRoute(sk), upgrade))).status).toBe(403);
    expect(origin).toHaveBeenCalledTimes(1);

    const objectSk = crypto.randomUUID();
    const objectStub = sessionStub(env, objectSk);
    fakeOrigin(() => new Response("created", { status: 200, headers: { "content-length": "7" } }));
    await (await objectStub.fetch(routed("/session", createRoute(objectSk, "generic"), { method: "POST" }))).text();
    const again = fakeOrigin(() => new Response("refused", { status: 403 }));
    expect((await objectStub.fetch(routed("/session/x/ws", { ...relayRoute(objectSk), isolate: "iso-1" }, upgrade))).status).toBe(403);
    expect(again).toHaveBeenCalledTimes(1);
  });

  it("grants a long-lived request (an SSE GET, a long-poll) as a stream leg for the edge to fetch; mode object relays it", async () => {
    const { sk, stub } = await edgeSession();
    const origin = fakeOrigin(() => new Response("never", { status: 500 }));
    const res = await stub.fetch(routed("/session/x/stream", { ...relayRoute(sk), isolate: "iso-3", leg: "stream" }));
    expect(res.status).toBe(204);
    const grant = decodeGrant(res.headers.get(LEG_HEADER));
    expect(grant).toMatchObject({ kind: "stream", origin: { url: ORIGIN.url, originSessionId: "sid-1", transport: { kind: "fetch" } } });
    expect(origin).not.toHaveBeenCalled();
    expect((await stub.describe()).openStreams).toBe(1);
    await stub.legClosed(grant?.leg ?? "", "stream", "origin", 0, "answered 200");
    expect((await stub.describe()).openStreams).toBe(0);

    const objectSk = crypto.randomUUID();
    const objectStub = sessionStub(env, objectSk);
    fakeOrigin(() => new Response("created", { status: 200, headers: { "content-length": "7" } }));
    await (await objectStub.fetch(routed("/session", createRoute(objectSk, "generic"), { method: "POST" }))).text();
    const relayed = fakeOrigin(() => new Response("polled", { headers: { "content-length": "6" } }));
    const answer = await objectStub.fetch(routed("/session/x/stream", { ...relayRoute(objectSk), isolate: "iso-3", leg: "stream" }));
    expect(answer.headers.has(LEG_HEADER)).toBe(false);
    expect(await answer.text()).toBe("polled");
    expect(relayed).toHaveBeenCalledTimes(1);
  });

  it("admits a long-poll as a leg that counts while open but leaves the event log alone", async () => {
    const { sk, stub } = await edgeSession();
    const before = (await stub.describe()).events.length;
    const res = await stub.fetch(routed("/socket.io/", { ...relayRoute(sk), isolate: "iso-4", leg: "poll" }));
    const grant = decodeGrant(res.headers.get(LEG_HEADER));
    expect(grant).toMatchObject({ kind: "poll", origin: { url: ORIGIN.url } });
    const open = await stub.describe();
    expect(open.legs).toEqual([expect.objectContaining({ id: grant?.leg, kind: "poll", isolate: "iso-4" })]);
    expect(open.openStreams).toBe(1);
    await stub.legClosed(grant?.leg ?? "", "poll", "origin", 0, "answered 200");
    const closed = await stub.describe();
    expect(closed.legs).toEqual([]);
    expect(closed.events).toHaveLength(before);
  });

  it("hands a stream back untouched as a leg; complete answers stay plain", async () => {
    const { sk, stub } = await edgeSession();
    const feed = new FakeOriginStream();
    fakeOrigin(() => feed.respond("data: 1\n\n"));
    const res = await stub.fetch(routed("/session/x/stream", { ...relayRoute(sk), isolate: "iso-2" }));
    const grant = decodeGrant(res.headers.get(LEG_HEADER));
    expect(grant).toEqual({ leg: expect.any(String), kind: "stream" });
    const reader = res.body?.getReader();
    expect(new TextDecoder().decode((await reader?.read())?.value)).toBe("data: 1\n\n");
    expect((await stub.describe()).openStreams).toBe(1);
    await reader?.cancel();

    fakeOrigin(() => new Response("ok", { headers: { "content-length": "2" } }));
    const plain = await stub.fetch(routed("/session/x/control", { ...relayRoute(sk), isolate: "iso-2" }, { method: "POST", body: "{}" }));
    expect(plain.headers.has(LEG_HEADER)).toBe(false);
    expect(await plain.text()).toBe("ok");
  });
});

describe("ending legs through the isolate hubs", () => {
  it("sends the protocol's end down the pumping isolate's control socket", async () => {
    const { sk, stub } = await edgeSession();
    const isolate = crypto.randomUUID();
    const control = await controlSocket(isolate);
    const res = await stub.fetch(routed("/session/x/ws", { ...relayRoute(sk), isolate }, upgrade));
    const leg = decodeGrant(res.headers.get(LEG_HEADER))?.leg ?? "";
    control.socket.send(JSON.stringify({ t: "open", sk, leg }));
    await eventually(async () => ((await hubStub(env, isolate).describe()).legs === 1 ? true : undefined), "the hub to know the leg");

    expect(await stub.end("admin", "unit test")).toBe(true);
    const end = await eventually(() => control.ends[0], "the end message");
    expect(end.legs).toEqual([leg]);
    expect(end.signal).toMatchObject({ closeCode: 1012, closeReason: expect.stringContaining("ended by an operator") });
    const view = await stub.describe();
    expect(view.legs).toEqual([]);
    expect(view.events.map((e) => e.kind)).not.toContain("leg_lost");

    // Until the isolate confirms the leg closed, a socket that announces it gets the end again
    // (the isolate may have been handing its socket over when the end went out).
    const second = await controlSocket(isolate);
    second.socket.send(JSON.stringify({ t: "hello", legs: [[sk, leg]] }));
    expect((await eventually(() => second.ends[0], "the end again")).legs).toEqual([leg]);
    second.socket.send(JSON.stringify({ t: "close", leg }));
    const hub = await eventually(async () => {
      const h = await hubStub(env, isolate).describe();
      return h.legs === 0 ? h : undefined;
    }, "the hub to forget the closed leg");
    expect(hub.sockets).toBe(2);
    expect(hub.activity.webSocketMessages).toBe(3);
    expect(hub.activity.requests).toBeGreaterThanOrEqual(3);
    control.socket.close(1000, "done");
    second.socket.close(1000, "done");
  });

  it("records legs lost when their isolate has no control socket", async () => {
    const { sk, stub } = await edgeSession();
    const res = await stub.fetch(routed("/session/x/ws", { ...relayRoute(sk), isolate: crypto.randomUUID() }, upgrade));
    const leg = decodeGrant(res.headers.get(LEG_HEADER))?.leg;
    expect(await stub.end("drain")).toBe(true);
    const view = await stub.describe();
    expect(view.legs).toEqual([]);
    expect(view.events.find((e) => e.kind === "leg_lost")?.detail).toMatchObject({ leg, kind: "websocket" });
  });

  it("keeps an end that arrives between two control sockets of a hand-over, and the next socket gets it", async () => {
    const { sk, stub, isolate, control: first, leg, hub } = await announcedLeg();
    // The leg that owned the socket ended: its socket closes before the next one opens.
    first.socket.close(1000, "hand-over");
    await eventually(async () => ((await hub.describe()).sockets === 0 ? true : undefined), "the hub to see the close");

    expect(await stub.end("drain")).toBe(true);
    expect((await stub.describe()).events.map((e) => e.kind)).not.toContain("leg_lost");
    const second = await controlSocket(isolate);
    second.socket.send(JSON.stringify({ t: "hello", legs: [[sk, leg]] }));
    const end = await eventually(() => second.ends[0], "the end on the next socket");
    expect(end).toMatchObject({ legs: [leg], signal: { closeCode: 1012 } });
    second.socket.close(1000, "done");
  });

  it("reports an isolate's legs lost to their sessions once its socket is gone for good", async () => {
    const { stub, control, leg, hub } = await announcedLeg();
    // An alarm while the socket is open changes nothing: the isolate is alive.
    expect(await runDurableObjectAlarm(hub)).toBe(true);
    expect((await stub.describe()).legs).toHaveLength(1);

    control.socket.close(1001, "isolate going away");
    await eventually(async () => ((await hub.describe()).sockets === 0 ? true : undefined), "the hub to see the close");
    expect(await runDurableObjectAlarm(hub)).toBe(true);
    const view = await stub.describe();
    expect(view.legs).toEqual([]);
    expect(view.events.find((e) => e.kind === "leg_lost")?.detail).toMatchObject({ leg, why: expect.stringContaining("isolate") });
    expect((await hub.describe()).legs).toBe(0);
  });

  it("answers hello with ready, then applies a batch of leg messages in order, in one event", async () => {
    const isolate = crypto.randomUUID();
    const control = await controlSocket(isolate);
    const hub = hubStub(env, isolate);
    control.socket.send(JSON.stringify({ t: "hello", legs: [] }));
    await eventually(() => (control.ready() ? true : undefined), "the hub's ready");
    const texts = [
      JSON.stringify({ t: "open", sk: "s1", leg: "a" }),
      JSON.stringify({ t: "open", sk: "s1", leg: "b" }),
      JSON.stringify({ t: "close", leg: "a" }),
      JSON.stringify({ t: "open", sk: "s2", leg: "c" }),
    ];
    const frames = isolateFrames(texts, true);
    expect(frames).toHaveLength(1);
    const before = (await hub.describe()).activity.webSocketMessages;
    control.socket.send(frames[0]!);
    await eventually(async () => ((await hub.describe()).legs === 2 ? true : undefined), "the hub to hold b and c");
    // One hello and one batch: the four leg messages were one hub event.
    expect((await hub.describe()).activity.webSocketMessages - before).toBe(1);
    control.socket.close(1000, "done");
  });
});
