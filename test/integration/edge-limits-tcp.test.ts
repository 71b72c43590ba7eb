/**
 * The WebSocket message and streamed-body limits on the `tcp` transport (PROXY v2, signed),
 * where the session object runs its own HTTP/1.1 and RFC 6455 clients: a message over the
 * limit either way closes that session with 1009 and a reason, a chunked body over the
 * limit is cut (413) without the origin acting on it, and a healthy session alongside goes on.
 */
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLIENT_ADDRESS, loggedRequests, proxyStack, type ProxyStack } from "./support/edge-proxy.ts";
import { httpJson, openWebSocket, type JsonResponse, type WsClient } from "./support/http-clients.ts";
import { WAIT_MS, withTimeout } from "./support/wait.ts";

const LIMITS = { bodyBytes: 16_384, webSocketMessageBytes: 8192 };

let ps: ProxyStack;
let healthy: WsClient;
let echoes = 0;

type Session = { id: string; token: string };

beforeAll(async () => {
  ps = await proxyStack({ version: 2, auth: true, originArgs: ["--interval-ms", "0"], poolSettings: { limits: LIMITS } });
  healthy = await openWs(await createSession());
});
afterAll(async () => {
  healthy?.ws.close(1000);
  await ps?.close();
});

async function createSession(): Promise<Session> {
  const res = await httpJson(`${ps.edgeUrl}/session`, { method: "POST", localAddress: CLIENT_ADDRESS });
  expect(res.status).toBe(201);
  return { id: (res.body as { id: string }).id, token: String(res.headers["x-affinity-token"]) };
}

async function openWs(session: Session): Promise<WsClient> {
  const ws = await openWebSocket(`${ps.edgeUrl.replace(/^http/, "ws")}/session/${session.id}/ws?interval_ms=0`, { "x-affinity-token": session.token }, { localAddress: CLIENT_ADDRESS });
  expect(await ws.nextJson()).toMatchObject({ type: "hello" });
  return ws;
}

async function healthyStillEchoes(): Promise<void> {
  const text = `still here ${++echoes}`;
  healthy.ws.send(text);
  expect((await healthy.next("the healthy session's echo")).data.toString()).toBe(text);
  await createSession();
}

describe("limits on the tcp transport", () => {
  it("closes a session whose client sends a message over the limit with 1009", async () => {
    const ws = await openWs(await createSession());
    ws.ws.send(Buffer.alloc(LIMITS.webSocketMessageBytes + 1, 1));
    expect(await ws.closed()).toEqual({ code: 1009, reason: `client message exceeds the ${LIMITS.webSocketMessageBytes}-byte limit` });
    await healthyStillEchoes();
  });

  it("closes a session whose origin sends a message over the limit with 1009", async () => {
    const session = await createSession();
    const ws = await openWs(session);
    const res = await httpJson(`${ps.edgeUrl}/session/${session.id}/control`, {
      method: "POST",
      headers: { "x-affinity-token": session.token },
      body: { cmd: "emit", data: "o".repeat(LIMITS.webSocketMessageBytes) },
      localAddress: CLIENT_ADDRESS,
    });
    expect(res.status).toBe(200);
    const closed = await ws.closed();
    expect(closed.code).toBe(1009);
    expect(closed.reason).toMatch(/exceeds the 8192-byte limit/);
    await healthyStillEchoes();
  });

  it("cuts a chunked body over the limit: 413, and the origin serves nothing of it", async () => {
    const session = await createSession();
    const inspect = ps.inspectUrls[0] ?? "";
    const before = (await loggedRequests(inspect)).length;
    const command = `{"cmd":"echo","data":"${"a".repeat(LIMITS.bodyBytes - 24)}"}`;
    const body = Buffer.concat([Buffer.from(command), Buffer.alloc(LIMITS.bodyBytes, 0x20)]);
    const res = await withTimeout(
      new Promise<JsonResponse>((resolve, reject) => {
        const req = httpRequest(
          `${ps.edgeUrl}/session/${session.id}/control`,
          { method: "POST", agent: false, localAddress: CLIENT_ADDRESS, headers: { "x-affinity-token": session.token, "transfer-encoding": "chunked" } },
          (r) => {
            const parts: Buffer[] = [];
            r.on("data", (c: Buffer) => parts.push(c));
            r.on("end", () => resolve({ status: r.statusCode ?? 0, headers: r.headers, body: JSON.parse(Buffer.concat(parts).toString()) as unknown }));
          },
        );
        req.on("error", (err) => (/EPIPE|ECONNRESET/.test(err.message) ? undefined : reject(err)));
        for (let at = 0; at < body.length; at += 4096) req.write(body.subarray(at, at + 4096));
        req.end();
      }),
      WAIT_MS,
      "the chunked POST",
    );
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ error: "body_too_large" });
    const after = await loggedRequests(inspect);
    expect(after.slice(before).filter((r) => r.path.endsWith("/control") && r.status === 200)).toEqual([]);
    await healthyStillEchoes();
  });
});
