// The generic protocol over HTTP against an in-process origin: sessions, SSE delivery one
// event at a time, control commands, errors, listener kinds, state and capacity.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOrigin, type RunningOrigin } from "../../infra/origin/origin.ts";
import { httpJson, openSse } from "./support/http-clients.ts";
import { rawExchange, rawStatus } from "./support/raw-tcp.ts";
import { sleep, WAIT_MS } from "./support/wait.ts";

function listenerUrl(origin: RunningOrigin, kind: "combined" | "create" | "control" | "admin"): string {
  const listener = origin.listeners.find((l) => l.kind === kind);
  if (listener === undefined) throw new Error(`no ${kind} listener`);
  return listener.url;
}

async function createSession(base: string): Promise<string> {
  const created = await httpJson(`${base}/session`, { method: "POST" });
  expect(created.status).toBe(201);
  const id = (created.body as { id: string }).id;
  expect(id).toMatch(/^[A-Za-z0-9_-]{16,}$/);
  return id;
}

describe("generic protocol over HTTP", () => {
  let origin: RunningOrigin;
  let base: string;
  let admin: string;

  beforeAll(async () => {
    origin = await startOrigin({
      id: "gen-1",
      listeners: [
        { kind: "combined", host: "127.0.0.1", port: 0 },
        { kind: "create", host: "127.0.0.1", port: 0 },
        { kind: "control", host: "127.0.0.1", port: 0 },
        { kind: "admin", host: "127.0.0.1", port: 0 },
      ],
      intervalMs: 0,
      keepAliveMs: 60_000,
    });
    base = listenerUrl(origin, "combined");
    admin = listenerUrl(origin, "admin");
  });
  afterAll(async () => {
    await origin.close();
  });

  it("creates a session: 201, ids in body and headers, client attributed", async () => {
    const created = await httpJson(`${base}/session`, { method: "POST" });
    expect(created.status).toBe(201);
    const body = created.body as { id: string; origin: string; client: string };
    expect(body.origin).toBe("gen-1");
    expect(body.client).toBe("127.0.0.1");
    expect(created.headers["x-session-id"]).toBe(body.id);
    expect(created.headers["x-origin-id"]).toBe("gen-1");
    const other = await createSession(base);
    expect(other).not.toBe(body.id);
  });

  it("streams SSE events one at a time, each as soon as it is emitted", async () => {
    const sid = await createSession(base);
    const stream = await openSse(`${base}/session/${sid}/stream?interval_ms=0`);
    try {
      expect(stream.headers["content-type"]).toMatch(/^text\/event-stream/);
      expect(stream.headers["cache-control"]).toBe("no-cache");
      expect(stream.headers["x-origin-id"]).toBe("gen-1");

      const first = await httpJson(`${base}/session/${sid}/control`, { method: "POST", body: { cmd: "emit", data: { n: 1 } } });
      expect(first.body).toMatchObject({ ok: true, origin: "gen-1", session: sid, delivered: 1 });
      const event1 = await stream.next("the first emitted event");
      expect(event1).toMatchObject({ id: "1", event: "emit" });
      expect(JSON.parse(event1.data)).toEqual({ type: "emit", seq: 1, origin: "gen-1", session: sid, data: { n: 1 } });

      // Only now ask for the second: the first must not have been waiting for it.
      await httpJson(`${base}/session/${sid}/control`, { method: "POST", body: { cmd: "emit", data: "two" } });
      const event2 = await stream.next("the second emitted event");
      expect(JSON.parse(event2.data)).toMatchObject({ type: "emit", seq: 2, data: "two" });
    } finally {
      stream.close();
    }
  });

  it("ticks at interval_ms and ends the stream after count events", async () => {
    const sid = await createSession(base);
    const stream = await openSse(`${base}/session/${sid}/stream?interval_ms=20&count=3`);
    const seqs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const event = await stream.next(`tick ${i + 1}`);
      expect(event.event).toBe("tick");
      const data = JSON.parse(event.data) as Record<string, unknown>;
      expect(data).toMatchObject({ type: "tick", origin: "gen-1", session: sid, client: "127.0.0.1" });
      expect(typeof data.ts).toBe("number");
      seqs.push(data.seq as number);
    }
    expect(seqs).toEqual([1, 2, 3]);
    expect(await stream.ended()).toBe("end");
  });

  it("uses the configured default interval when interval_ms is absent, and rejects bad values", async () => {
    const ticking = await startOrigin({ id: "gen-tick", listeners: [{ kind: "combined", host: "127.0.0.1", port: 0 }], intervalMs: 10 });
    try {
      const url = listenerUrl(ticking, "combined");
      const sid = await createSession(url);
      const stream = await openSse(`${url}/session/${sid}/stream?count=2`);
      expect((await stream.next()).event).toBe("tick");
      expect((await stream.next()).event).toBe("tick");
      await stream.ended();
      const bad = await httpJson(`${url}/session/${sid}/stream?interval_ms=soon`);
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({ error: "bad_query" });
    } finally {
      await ticking.close();
    }
  });

  it("sends keep-alive comments on a silent stream", async () => {
    const quiet = await startOrigin({
      id: "gen-quiet",
      listeners: [{ kind: "combined", host: "127.0.0.1", port: 0 }],
      intervalMs: 0,
      keepAliveMs: 30,
    });
    try {
      const url = listenerUrl(quiet, "combined");
      const sid = await createSession(url);
      const stream = await openSse(`${url}/session/${sid}/stream`);
      expect(await stream.nextComment()).toBe("keep-alive");
      expect(await stream.nextComment()).toBe("keep-alive");
      stream.close();
    } finally {
      await quiet.close();
    }
  });

  it("answers control commands: echo, close, and 400 bad_command for garbage", async () => {
    const sid = await createSession(base);
    const echo = await httpJson(`${base}/session/${sid}/control`, { method: "POST", body: { cmd: "echo", data: { a: [1, "b"] } } });
    expect(echo.status).toBe(200);
    expect(echo.body).toEqual({ ok: true, origin: "gen-1", session: sid, cmd: "echo", data: { a: [1, "b"] } });

    for (const rawBody of ["{not json", '{"cmd":"explode"}', "[1,2]", ""]) {
      const bad = await httpJson(`${base}/session/${sid}/control`, { method: "POST", rawBody });
      expect(bad.status, rawBody).toBe(400);
      expect(bad.body, rawBody).toMatchObject({ error: "bad_command" });
      expect(bad.headers["x-origin-id"]).toBe("gen-1");
    }

    const stream = await openSse(`${base}/session/${sid}/stream?interval_ms=0`);
    const closed = await httpJson(`${base}/session/${sid}/control`, { method: "POST", body: { cmd: "close" } });
    expect(closed.body).toMatchObject({ ok: true, cmd: "close", session: sid });
    expect(await stream.ended()).toBe("end");
    const after = await httpJson(`${base}/session/${sid}/stream`);
    expect(after.status).toBe(404);
    expect(after.body).toMatchObject({ error: "session_not_found" });
  });

  it("answers 404 session_not_found (JSON) for unknown sessions", async () => {
    for (const [method, path] of [
      ["GET", "/session/doesnotexist/stream"],
      ["POST", "/session/doesnotexist/control"],
      ["GET", "/session/doesnotexist"],
    ] as const) {
      const response = await httpJson(`${base}${path}`, { method, body: method === "POST" ? { cmd: "echo" } : undefined });
      expect(response.status, path).toBe(404);
      expect(response.body, path).toMatchObject({ error: "session_not_found" });
      expect(typeof (response.body as { message: unknown }).message).toBe("string");
    }
  });

  it("puts X-Origin-Id on every response, errors included", async () => {
    const responses = [
      await httpJson(`${base}/health`),
      await httpJson(`${base}/nowhere`),
      await httpJson(`${base}/session`, { method: "GET" }),
      await httpJson(`${base}/ws`),
      await httpJson(`${admin}/admin/state`, { method: "POST", body: { state: "sideways" } }),
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 404, 405, 426, 400]);
    for (const response of responses) expect(response.headers["x-origin-id"]).toBe("gen-1");
    expect(responses[2]?.headers.allow).toBe("POST");

    // Even a request Node's HTTP parser rejects.
    const garbage = await rawExchange(Number(new URL(base).port), ["GET / HTTP/1.1\r\nBad Header Line\r\n\r\n"]);
    expect(rawStatus(garbage.response)).toBe(400);
    expect(garbage.response).toMatch(/X-Origin-Id: gen-1/);
  });

  it("serves S endpoints only on create listeners and CR endpoints only on control listeners", async () => {
    const create = listenerUrl(origin, "create");
    const control = listenerUrl(origin, "control");
    const sid = await createSession(create);

    const wrongOnCreate = await httpJson(`${create}/session/${sid}/stream`);
    expect(wrongOnCreate.status).toBe(404);
    expect(wrongOnCreate.body).toMatchObject({ error: "wrong_listener" });
    const wrongOnControl = await httpJson(`${control}/session`, { method: "POST" });
    expect(wrongOnControl.status).toBe(404);
    expect(wrongOnControl.body).toMatchObject({ error: "wrong_listener" });

    // The session made on the create port is served on the control port.
    const echo = await httpJson(`${control}/session/${sid}/control`, { method: "POST", body: { cmd: "echo", data: 7 } });
    expect(echo.body).toMatchObject({ ok: true, data: 7 });
    for (const url of [create, control]) {
      const health = await httpJson(`${url}/health`);
      expect(health.status).toBe(200);
      expect(health.body).toMatchObject({ id: "gen-1" });
    }
  });

  it("reports health and obeys admin state: blocked refuses new sessions", async () => {
    const health = await httpJson(`${base}/health`);
    expect(health.body).toMatchObject({ id: "gen-1", state: "active", capacity: 1000, client: "127.0.0.1", via: "socket" });
    expect((health.body as { sessions: number }).sessions).toBeGreaterThan(0);

    const blocked = await httpJson(`${admin}/admin/state`, { method: "POST", body: { state: "blocked" } });
    expect(blocked.body).toMatchObject({ ok: true, state: "blocked", previous: "active" });
    try {
      const refused = await httpJson(`${base}/session`, { method: "POST" });
      expect(refused.status).toBe(503);
      expect(refused.body).toMatchObject({ error: "origin_blocked" });
      expect((await httpJson(`${base}/health`)).body).toMatchObject({ state: "blocked" });
      origin.setState("draining");
      expect((await httpJson(`${base}/session`, { method: "POST" })).status).toBe(201);
    } finally {
      origin.setState("active");
    }
  });

  it("serves /admin/state and /_debug/requests only on the admin listener, and nothing but operations there (issue 16 F2)", async () => {
    for (const kind of ["combined", "create", "control"] as const) {
      const url = listenerUrl(origin, kind);
      const state = await httpJson(`${url}/admin/state`, { method: "POST", body: { state: "blocked" } });
      expect(state.status, kind).toBe(404);
      expect(state.body, kind).toMatchObject({ error: "wrong_listener" });
      const debug = await httpJson(`${url}/_debug/requests`);
      expect(debug.status, kind).toBe(404);
      expect(debug.body, kind).toMatchObject({ error: "wrong_listener" });
    }
    expect(origin.getState()).toBe("active");
    expect((await httpJson(`${admin}/health`)).status).toBe(200);
    const session = await httpJson(`${admin}/session`, { method: "POST" });
    expect(session.status).toBe(404);
    expect(session.body).toMatchObject({ error: "wrong_listener" });
  });

  it("refuses sessions beyond capacity and forgets idle sessions", async () => {
    const small = await startOrigin({
      id: "gen-small",
      listeners: [{ kind: "combined", host: "127.0.0.1", port: 0 }],
      capacity: 1,
      sessionIdleMs: 100,
    });
    try {
      const url = listenerUrl(small, "combined");
      const sid = await createSession(url);
      const full = await httpJson(`${url}/session`, { method: "POST" });
      expect(full.status).toBe(503);
      expect(full.body).toMatchObject({ error: "origin_full" });
      // Idle expiry: poll (bounded) until the session is gone, then capacity is free again.
      const deadline = Date.now() + WAIT_MS;
      while ((await httpJson(`${url}/session/${sid}`)).status === 200 && Date.now() < deadline) await sleep(50);
      expect((await httpJson(`${url}/session/${sid}`)).status).toBe(404);
      expect((await httpJson(`${url}/session`, { method: "POST" })).status).toBe(201);
    } finally {
      await small.close();
    }
  });

  it("keeps a session attached to an open stream alive past the idle time", async () => {
    const idle = await startOrigin({
      id: "gen-idle",
      listeners: [{ kind: "combined", host: "127.0.0.1", port: 0 }],
      intervalMs: 0,
      sessionIdleMs: 50,
    });
    try {
      const url = listenerUrl(idle, "combined");
      const sid = await createSession(url);
      const stream = await openSse(`${url}/session/${sid}/stream`);
      await sleep(200);
      const emit = await httpJson(`${url}/session/${sid}/control`, { method: "POST", body: { cmd: "emit", data: 1 } });
      expect(emit.status).toBe(200);
      expect(JSON.parse((await stream.next()).data)).toMatchObject({ data: 1 });
      stream.close();
    } finally {
      await idle.close();
    }
  });

  it("logs requests for /_debug/requests, leaving out /health and itself", async () => {
    const sid = await createSession(base);
    await httpJson(`${base}/health`);
    await httpJson(`${base}/session/${sid}/control`, { method: "POST", body: { cmd: "echo" } });
    const log = await httpJson(`${admin}/_debug/requests`);
    const entries = log.body as Array<Record<string, unknown>>;
    expect(entries.some((e) => e.path === "/health" || e.path === "/_debug/requests")).toBe(false);
    const control = entries.filter((e) => e.path === `/session/${sid}/control`);
    expect(control).toHaveLength(1);
    expect(control[0]).toMatchObject({ method: "POST", status: 200, session: sid, client: "127.0.0.1", via: "socket", listener: "combined" });
    expect(origin.requests().map((e) => e.path)).toContain(`/session/${sid}/control`);
  });
});
