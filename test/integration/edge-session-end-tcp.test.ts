/**
 * Ending sessions whose origin is reached over the `tcp` transport (PROXY v2, signed): the
 * session object's own HTTP/1.1 and WebSocket clients carry the end as the fetch path
 * does — the client's WebSocket closes with 1012, its stream ends, its token is refused.
 *
 * Not asserted here: that the origin notices its side was dropped. Over the tcp transport
 * it does not (an SSE stream's subscriber stays counted), and neither does it when a client
 * simply goes away; that belongs to the tcp transport, not to ending sessions.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { proxyStack, type ProxyStack } from "./support/edge-proxy.ts";
import { httpJson, openSse, openWebSocket } from "./support/http-clients.ts";
import { endSession } from "./support/session-end.ts";

let ps: ProxyStack;

beforeAll(async () => {
  ps = await proxyStack({ version: 2, auth: true, originArgs: ["--interval-ms", "100"] });
});
afterAll(async () => {
  await ps?.close();
});

describe("ending a session on a tcp-transport origin", () => {
  it("closes its WebSocket with 1012, and a new session works", async () => {
    const url = `${ps.edgeUrl.replace(/^http/, "ws")}/ws?announce_affinity=1`;
    const first = await openWebSocket(url);
    const token = String((await first.nextJson("the token")).token);
    await first.nextJson("hello");

    expect((await endSession(ps.stack, token, "drain")).body).toMatchObject({ ended: true });

    expect((await first.closed()).code).toBe(1012);
    const second = await openWebSocket(url);
    expect(String((await second.nextJson("the new token")).token)).not.toBe(token);
    expect(await second.nextJson("hello")).toMatchObject({ type: "hello" });
    second.ws.close(1000);
    await second.closed();
  });

  it("ends its SSE stream; its token then gets 404 session_not_found", async () => {
    const created = await httpJson(`${ps.edgeUrl}/session`, { method: "POST" });
    const token = String(created.headers["x-affinity-token"]);
    const id = String((created.body as { id: string }).id);
    const stream = await openSse(`${ps.edgeUrl}/session/${id}/stream`, { "x-affinity-token": token });
    await stream.next("a first event");

    expect((await endSession(ps.stack, token, "expired")).body).toMatchObject({ ended: true });

    expect(["end", "close"]).toContain(await stream.ended());
    const later = await httpJson(`${ps.edgeUrl}/session/${id}`, { headers: { "x-affinity-token": token } });
    expect(later.status).toBe(404);
    expect(later.body).toMatchObject({ error: "session_not_found" });
  });
});
