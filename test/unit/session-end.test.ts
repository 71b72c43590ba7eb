/**
 * SessionObject.end(): every open connection of the session hears the protocol's own
 * "reconnect" signal (generic, TLCP, Engine.IO), the record is ended, and later requests
 * get session_not_found.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { FAILURE_HEADER } from "../../durable-objects/session/route.ts";
import { sessionStub } from "../../durable-objects/session/stub.ts";
import { within } from "./support/memory-pipe.ts";
import {
  FakeOriginSocket,
  FakeOriginStream,
  clientSocket,
  createRoute,
  eventually,
  fakeOrigin,
  readChunk,
  relayRoute,
  routed,
  upgrade,
} from "./support/session-harness.ts";

afterEach(() => {
  vi.restoreAllMocks();
});

/** Everything left in a stream, chunk by chunk (bounded). */
async function rest(reader: ReadableStreamDefaultReader<Uint8Array>, what: string): Promise<string> {
  let text = "";
  for (let chunk = await readChunk(reader, what); chunk !== undefined; chunk = await readChunk(reader, what)) text += chunk;
  return text;
}

describe("ending a generic session", () => {
  it("closes its WebSocket with 1012, ends its stream, and answers later requests session_not_found", async () => {
    const sk = crypto.randomUUID();
    const origin = new FakeOriginSocket();
    const feed = new FakeOriginStream();
    fakeOrigin((req) => (new URL(req.url).pathname === "/ws" ? origin.respond() : feed.respond("data: 1\n\n")));
    const stub = sessionStub(env, sk);
    const ws = clientSocket(await stub.fetch(routed("/ws", createRoute(sk, "generic"), upgrade)));
    const stream = await stub.fetch(routed("/session/x/stream", relayRoute(sk)));
    const reader = stream.body?.getReader();
    if (reader === undefined) throw new Error("no stream body");
    await origin.send(stub, "tick 1");
    expect(await ws.next("tick 1")).toBe("tick 1");
    expect(await readChunk(reader, "event 1")).toBe("data: 1\n\n");
    expect(await stub.describe()).toMatchObject({ openWebSockets: 1, openStreams: 1 });

    expect(await stub.end("drain", "o2 maintenance")).toBe(true);

    const closed = await ws.closed;
    expect(closed.code).toBe(1012);
    expect(closed.reason).toBe("session ended, its server is being drained: o2 maintenance; open a new one");
    expect(await eventually(() => origin.closed, "the origin's close")).toMatchObject({ code: 1001 });
    // The stream just ends: the generic protocol has no words of its own for it.
    expect(await readChunk(reader, "the stream's end")).toBeUndefined();
    expect(await eventually(() => feed.cancelled || undefined, "the origin stream's cancel")).toBe(true);

    const view = await stub.describe();
    expect(view.record).toMatchObject({ state: "ended", endedReason: "drain" });
    expect(view).toMatchObject({ openWebSockets: 0, openStreams: 0 });
    expect(view.events.find((e) => e.kind === "ended")?.detail).toEqual({ reason: "drain", detail: "o2 maintenance" });
    expect(view.events.find((e) => e.kind === "websocket_close")?.detail).toMatchObject({ side: "edge", code: 1012 });

    const calls = fakeOrigin(() => new Response("must not be reached"));
    const later = await stub.fetch(routed("/session/x/control", relayRoute(sk), { method: "POST", body: "{}" }));
    expect(later.status).toBe(404);
    expect(later.headers.get(FAILURE_HEADER)).toBe("session_not_found");
    expect(await later.json()).toMatchObject({ error: "session_not_found" });
    expect(calls).not.toHaveBeenCalled();
    expect(await stub.end("admin")).toBe(false);
  });

  it("ends nothing when there is no session, and refuses an unknown reason", async () => {
    const stub = sessionStub(env, crypto.randomUUID());
    expect(await stub.end("admin")).toBe(false);
    // RPC callers are not type-checked at run time: the object checks for itself.
    let refused: unknown;
    try {
      await stub.end("whatever" as "admin");
    } catch (err) {
      refused = err;
    }
    expect(String(refused)).toMatch(/not a reason to end a session/);
  });
});

describe("ending a TLCP session", () => {
  const conok = "CONOK,S0a1b2c3,50000,5000,origin-two.test\r\n";

  it("appends END,48 to its HTTP stream, on a line of its own, and closes it", async () => {
    const sk = crypto.randomUUID();
    const feed = new FakeOriginStream();
    fakeOrigin(() => feed.respond(conok));
    const stub = sessionStub(env, sk);
    const res = await stub.fetch(routed("/lightstreamer/create_session.txt", createRoute(sk, "tlcp"), { method: "POST", body: "LS_cid=x" }));
    const reader = res.body?.getReader();
    if (reader === undefined) throw new Error("no stream body");
    expect(await readChunk(reader, "CONOK")).toBe(`CONOK,token-of-${sk},50000,5000,*\r\n`);
    // The origin's last chunk stops mid-line: END must still start a line.
    await feed.write(stub, "U,1,1,12:00");
    expect(await readChunk(reader, "the update")).toBe("U,1,1,12:00");

    expect(await stub.end("expired")).toBe(true);

    expect(await rest(reader, "the rest of the stream")).toBe(
      "\r\nEND,48,session ended%2C maximum session duration reached; open a new one\r\n",
    );
    expect(await eventually(() => feed.cancelled || undefined, "the origin stream's cancel")).toBe(true);
  });

  it("sends END,48 on its WebSocket, then closes it; a later control request gets an error line", async () => {
    const sk = crypto.randomUUID();
    const origin = new FakeOriginSocket();
    fakeOrigin(() => origin.respond());
    const stub = sessionStub(env, sk);
    const ws = clientSocket(await stub.fetch(routed("/lightstreamer", createRoute(sk, "tlcp"), upgrade)));
    await origin.send(stub, conok);
    expect(await ws.next("CONOK")).toBe(`CONOK,token-of-${sk},50000,5000,*\r\n`);

    expect(await stub.end("rebalance")).toBe(true);

    expect(await ws.next("END")).toBe("END,48,session ended%2C sessions are being rebalanced; open a new one\r\n");
    expect((await ws.closed).code).toBe(1000);
    const control = await stub.fetch(
      routed("/lightstreamer/control.txt", relayRoute(sk), { method: "POST", body: "LS_reqId=1&LS_op=add&LS_session=x" }),
    );
    // The edge rewords this per request line (REQERR); here it is the DO's session_not_found.
    expect(control.headers.get(FAILURE_HEADER)).toBe("session_not_found");
    expect(await control.text()).toMatch(/^CONERR,20,/);
  });
});

describe("ending an Engine.IO session", () => {
  const open = '0{"sid":"origin-sid","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}';

  it("closes its WebSocket, and answers a waiting long-poll 'Session ID unknown' at once", async () => {
    const sk = crypto.randomUUID();
    const origin = new FakeOriginSocket();
    const poll = { arrived: false, aborted: false };
    fakeOrigin((req) => {
      const url = new URL(req.url);
      if (url.searchParams.get("sid") === null) return new Response(open, { headers: { "content-length": String(open.length) } });
      if (url.searchParams.get("transport") === "websocket") return origin.respond();
      // A long-poll: the origin holds it until it has a packet (here: never).
      poll.arrived = true;
      return new Promise<Response>((_, reject) =>
        req.signal.addEventListener("abort", () => {
          poll.aborted = true;
          reject(new DOMException("aborted", "AbortError"));
        }),
      );
    });
    const stub = sessionStub(env, sk);
    const handshake = await stub.fetch(routed("/socket.io/?EIO=4&transport=polling", createRoute(sk, "engine.io")));
    expect(await handshake.text()).toContain(`"sid":"token-of-${sk}"`);
    const ws = clientSocket(await stub.fetch(routed("/socket.io/?EIO=4&transport=websocket&sid=x", relayRoute(sk), upgrade)));
    const waiting = stub.fetch(routed("/socket.io/?EIO=4&transport=polling&sid=x", relayRoute(sk)));
    await eventually(() => poll.arrived || undefined, "the long-poll at the origin");

    expect(await stub.end("drain")).toBe(true);

    expect((await ws.closed).code).toBe(1012);
    const answered = await within(waiting, "the long-poll's answer");
    expect(answered.status).toBe(400);
    expect(answered.headers.get(FAILURE_HEADER)).toBe("session_not_found");
    expect(await answered.json()).toEqual({ code: 1, message: "Session ID unknown" });
    expect(poll.aborted).toBe(true);
    // Nothing was recorded as the origin failing: the edge gave up on the request itself.
    expect((await stub.describe()).events.map((e) => e.kind)).not.toContain("origin_unreachable");
  });
});
