/**
 * Sessions opened through the edge stay on their origin: 60 HTTP-streaming sessions and
 * 60 WebSocket sessions, every CR request and every streamed event checked against the
 * origin that served the session's S request — and new sessions spread over all origins.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningStack } from "../../infra/local/stack.ts";
import { SseReader, WsClient, inBatches, testStack } from "./stack-fixture.ts";

const SESSIONS = 60;
let stack: RunningStack;

beforeAll(async () => {
  stack = await testStack({ originCount: 3 });
});
afterAll(async () => {
  await stack?.close();
});

function expectSpread(origins: string[]): void {
  const counts = new Map<string, number>();
  for (const o of origins) counts.set(o, (counts.get(o) ?? 0) + 1);
  expect([...counts.keys()].sort()).toEqual(["o1", "o2", "o3"]);
  for (const [, n] of counts) expect(n).toBeGreaterThanOrEqual(Math.ceil(origins.length * 0.25));
}

describe("HTTP streaming sessions", () => {
  it(`keep all ${SESSIONS} sessions on the origin of their S request`, async () => {
    const placed = await inBatches(
      Array.from({ length: SESSIONS }, (_, i) => i),
      10,
      async (i) => {
        const created = await fetch(`${stack.edgeUrl}/session`, { method: "POST" });
        expect(created.status).toBe(201);
        const origin = created.headers.get("x-origin-id") ?? "";
        const token = created.headers.get("x-affinity-token") ?? "";
        const body = (await created.json()) as { id: string; origin: string };
        expect(body.origin).toBe(origin);

        // Each carrier in turn: header, query parameter, cookie.
        const carrier = i % 3;
        const withToken = (path: string): [string, RequestInit] =>
          carrier === 1
            ? [`${stack.edgeUrl}${path}${path.includes("?") ? "&" : "?"}affinity=${token}`, {}]
            : [`${stack.edgeUrl}${path}`, { headers: carrier === 0 ? { "x-affinity-token": token } : { cookie: `pe_affinity=${token}` } }];

        const [streamUrl, streamInit] = withToken(`/session/${body.id}/stream?interval_ms=20&count=3`);
        const stream = await fetch(streamUrl, streamInit);
        expect(stream.status).toBe(200);
        expect(stream.headers.get("x-origin-id")).toBe(origin);
        const reader = new SseReader(stream);
        for (let n = 0; n < 3; n++) {
          const event = await reader.next();
          expect(event).toMatchObject({ origin, session: body.id });
        }
        await reader.cancel();

        const [controlUrl, controlInit] = withToken(`/session/${body.id}/control`);
        const control = await fetch(controlUrl, {
          ...controlInit,
          method: "POST",
          headers: { ...(controlInit.headers as Record<string, string> | undefined), "content-type": "application/json" },
          body: JSON.stringify({ cmd: "echo", data: i }),
        });
        expect(control.status).toBe(200);
        expect(control.headers.get("x-origin-id")).toBe(origin);
        expect(await control.json()).toMatchObject({ ok: true, origin, session: body.id });
        return origin;
      },
    );
    expectSpread(placed);
  });
});

describe("WebSocket sessions", () => {
  it(`keep all ${SESSIONS} sessions on the origin of their S WebSocket`, async () => {
    const wsBase = stack.edgeUrl.replace(/^http/, "ws");
    const placed = await inBatches(
      Array.from({ length: SESSIONS }, (_, i) => i),
      10,
      async (i) => {
        // S: a WebSocket without a token; the client opts in to learn its token in-band.
        const s = new WsClient(`${wsBase}/ws?announce_affinity=1&interval_ms=20`);
        await s.opened();
        const headers = await s.upgradeHeaders;
        const announced = await s.json();
        expect(announced).toMatchObject({ type: "push-edge.affinity" });
        const token = String(announced.token);
        expect(headers["x-affinity-token"]).toBe(token);
        const hello = await s.json();
        const origin = String(hello.origin);
        const session = String(hello.session);
        expect(headers["x-origin-id"]).toBe(origin);

        const text = `echo-${i}`;
        s.ws.send(text);
        const binary = Buffer.from([i, 0, 255, 1]);
        s.ws.send(binary);
        let echoedText = false;
        let echoedBinary = false;
        let ticks = 0;
        while (!(echoedText && echoedBinary && ticks >= 2)) {
          const m = await s.message();
          if (m.binary) {
            expect(m.data.equals(binary)).toBe(true);
            echoedBinary = true;
          } else if (m.data.toString() === text) {
            echoedText = true;
          } else {
            const event = JSON.parse(m.data.toString()) as Record<string, unknown>;
            expect(event).toMatchObject({ origin, session });
            ticks += 1;
          }
        }

        // CR: a second WebSocket of the same session, and an HTTP control request.
        const cr = new WsClient(`${wsBase}/session/${session}/ws?interval_ms=0`, { "x-affinity-token": token });
        await cr.opened();
        expect(await cr.json()).toMatchObject({ type: "hello", origin, session });
        const control = await fetch(`${stack.edgeUrl}/session/${session}/control`, {
          method: "POST",
          headers: { "x-affinity-token": token, "content-type": "application/json" },
          body: JSON.stringify({ cmd: "emit", data: { n: i } }),
        });
        expect(control.headers.get("x-origin-id")).toBe(origin);
        await control.text();
        // The emitted event reaches the CR WebSocket through the same origin.
        expect(await cr.json()).toMatchObject({ type: "emit", origin, session, data: { n: i } });
        await cr.close();
        await s.close();
        return origin;
      },
    );
    expectSpread(placed);
  });

  it("passes the origin's close code and reason to the client", async () => {
    const wsBase = stack.edgeUrl.replace(/^http/, "ws");
    const s = new WsClient(`${wsBase}/ws?interval_ms=0&announce_affinity=1`);
    await s.opened();
    const token = String((await s.json()).token);
    const { session } = await s.json();
    const res = await fetch(`${stack.edgeUrl}/session/${String(session)}/control`, {
      method: "POST",
      headers: { "x-affinity-token": token, "content-type": "application/json" },
      body: JSON.stringify({ cmd: "close" }),
    });
    expect(res.status).toBe(200);
    expect(await s.closed).toEqual({ code: 1000, reason: "session closed" });
  });

  it("records the client's close code in the session's event log", async () => {
    const wsBase = stack.edgeUrl.replace(/^http/, "ws");
    const s = new WsClient(`${wsBase}/ws?interval_ms=0`);
    await s.opened();
    const token = String((await s.upgradeHeaders)["x-affinity-token"]);
    await s.json(); // hello
    s.ws.close(4001, "client says bye");
    await s.closed;
    const sk = (JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as { sk: string }).sk;
    const admin = { authorization: `Bearer ${stack.adminToken}` };
    let kinds: unknown[] = [];
    for (let attempt = 0; attempt < 50 && !kinds.includes("websocket_close"); attempt++) {
      const view = (await (await fetch(`${stack.edgeUrl}/_edge/admin/sessions/${sk}`, { headers: admin })).json()) as {
        events: Array<{ kind: string; detail: Record<string, unknown> }>;
      };
      kinds = view.events.map((e) => e.kind);
      const closeEvent = view.events.find((e) => e.kind === "websocket_close");
      if (closeEvent !== undefined) expect(closeEvent.detail).toEqual({ side: "client", code: 4001, reason: "client says bye" });
      else await new Promise((r) => setTimeout(r, 100));
    }
    expect(kinds).toEqual(["created", "websocket_open", "websocket_close"]);
  });
});
