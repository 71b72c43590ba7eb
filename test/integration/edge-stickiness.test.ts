/**
 * Sessions opened through the edge stay on their origin: 60 HTTP-streaming sessions and
 * 60 WebSocket sessions, every CR request and every streamed event checked against the
 * origin that served the session's S request — and new sessions spread over all origins.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningStack } from "../../infra/local/stack.ts";
import { httpJson, openSse, openWebSocket } from "./support/http-clients.ts";
import { inBatches, testStack } from "./support/stack.ts";
import { sleep } from "./support/wait.ts";

const SESSIONS = 60;
let stack: RunningStack;
let wsBase: string;

beforeAll(async () => {
  stack = await testStack({ originCount: 3 });
  wsBase = stack.edgeUrl.replace(/^http/, "ws");
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

const header = (value: string | string[] | undefined): string => (Array.isArray(value) ? (value[0] ?? "") : (value ?? ""));

describe("HTTP streaming sessions", () => {
  it(`keep all ${SESSIONS} sessions on the origin of their S request`, async () => {
    const placed = await inBatches(
      Array.from({ length: SESSIONS }, (_, i) => i),
      10,
      async (i) => {
        const created = await httpJson(`${stack.edgeUrl}/session`, { method: "POST" });
        expect(created.status).toBe(201);
        const origin = header(created.headers["x-origin-id"]);
        const token = header(created.headers["x-affinity-token"]);
        const body = created.body as { id: string; origin: string };
        expect(body.origin).toBe(origin);

        // Each carrier in turn: header, query parameter, cookie.
        const carried = (path: string): { url: string; headers: Record<string, string> } => {
          if (i % 3 === 1) return { url: `${stack.edgeUrl}${path}${path.includes("?") ? "&" : "?"}affinity=${token}`, headers: {} };
          return { url: `${stack.edgeUrl}${path}`, headers: i % 3 === 0 ? { "x-affinity-token": token } : { cookie: `pe_affinity=${token}` } };
        };

        const stream = carried(`/session/${body.id}/stream?interval_ms=20&count=3`);
        const sse = await openSse(stream.url, stream.headers);
        expect(header(sse.headers["x-origin-id"])).toBe(origin);
        for (let n = 0; n < 3; n++) {
          expect(JSON.parse((await sse.next()).data)).toMatchObject({ origin, session: body.id });
        }
        sse.close();

        const control = carried(`/session/${body.id}/control`);
        const answer = await httpJson(control.url, { method: "POST", headers: control.headers, body: { cmd: "echo", data: i } });
        expect(answer.status).toBe(200);
        expect(header(answer.headers["x-origin-id"])).toBe(origin);
        expect(answer.body).toMatchObject({ ok: true, origin, session: body.id });
        return origin;
      },
    );
    expectSpread(placed);
  });
});

describe("WebSocket sessions", () => {
  it(`keep all ${SESSIONS} sessions on the origin of their S WebSocket`, async () => {
    const placed = await inBatches(
      Array.from({ length: SESSIONS }, (_, i) => i),
      10,
      async (i) => {
        // S: a WebSocket without a token; the client opts in to learn its token in-band.
        const s = await openWebSocket(`${wsBase}/ws?announce_affinity=1&interval_ms=20`);
        const announced = await s.nextJson();
        expect(announced).toMatchObject({ type: "push-edge.affinity" });
        const token = String(announced.token);
        expect(header(s.upgradeHeaders["x-affinity-token"])).toBe(token);
        const hello = await s.nextJson();
        const origin = String(hello.origin);
        const session = String(hello.session);
        expect(header(s.upgradeHeaders["x-origin-id"])).toBe(origin);

        const text = `echo-${i}`;
        const binary = Buffer.from([i, 0, 255, 1]);
        s.ws.send(text);
        s.ws.send(binary);
        let echoedText = false;
        let echoedBinary = false;
        let ticks = 0;
        while (!(echoedText && echoedBinary && ticks >= 2)) {
          const m = await s.next();
          if (m.isBinary) {
            expect(m.data.equals(binary)).toBe(true);
            echoedBinary = true;
          } else if (m.data.toString() === text) {
            echoedText = true;
          } else {
            expect(JSON.parse(m.data.toString())).toMatchObject({ origin, session });
            ticks += 1;
          }
        }

        // CR: a second WebSocket of the same session, and an HTTP control request.
        const cr = await openWebSocket(`${wsBase}/session/${session}/ws?interval_ms=0`, { "x-affinity-token": token });
        expect(await cr.nextJson()).toMatchObject({ type: "hello", origin, session });
        const control = await httpJson(`${stack.edgeUrl}/session/${session}/control`, {
          method: "POST",
          headers: { "x-affinity-token": token },
          body: { cmd: "emit", data: { n: i } },
        });
        expect(header(control.headers["x-origin-id"])).toBe(origin);
        // The emitted event reaches the CR WebSocket through the same origin.
        expect(await cr.nextJson()).toMatchObject({ type: "emit", origin, session, data: { n: i } });
        cr.ws.close(1000);
        s.ws.close(1000);
        await Promise.all([cr.closed(), s.closed()]);
        return origin;
      },
    );
    expectSpread(placed);
  });

  it("passes the origin's close code and reason to the client", async () => {
    const s = await openWebSocket(`${wsBase}/ws?interval_ms=0&announce_affinity=1`);
    const token = String((await s.nextJson()).token);
    const { session } = await s.nextJson();
    const res = await httpJson(`${stack.edgeUrl}/session/${String(session)}/control`, {
      method: "POST",
      headers: { "x-affinity-token": token },
      body: { cmd: "close" },
    });
    expect(res.status).toBe(200);
    expect(await s.closed()).toEqual({ code: 1000, reason: "session closed" });
  });

  it("records the client's close code in the session's event log", async () => {
    const s = await openWebSocket(`${wsBase}/ws?interval_ms=0`);
    const token = header(s.upgradeHeaders["x-affinity-token"]);
    await s.nextJson(); // hello
    s.ws.close(4001, "client says bye");
    await s.closed();
    const sk = (JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as { sk: string }).sk;
    const admin = { authorization: `Bearer ${stack.adminToken}` };
    // The close travels client → edge → origin asynchronously; poll the log (bounded).
    let events: Array<{ kind: string; detail: Record<string, unknown> }> = [];
    for (let attempt = 0; attempt < 50 && !events.some((e) => e.kind === "websocket_close"); attempt++) {
      if (attempt > 0) await sleep(100);
      events = ((await httpJson(`${stack.edgeUrl}/_edge/admin/sessions/${sk}`, { headers: admin })).body as { events: typeof events }).events;
    }
    expect(events.map((e) => e.kind)).toEqual(["created", "websocket_open", "websocket_close"]);
    // Relay mode edge (the default): the close is reported by the isolate that pumped the leg.
    expect(events[2]?.detail).toEqual({ leg: expect.any(String), side: "client", code: 4001, reason: "client says bye" });
  });
});
