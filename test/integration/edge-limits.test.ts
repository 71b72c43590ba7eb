/**
 * Input limits through the real stack (edge in workerd, a reference origin): an oversized
 * URL, header block, CR body (declared or streamed), WebSocket message (either way) and
 * protocol line are each refused with their error — a JSON error, TLCP's own line, or
 * close 1009 with a reason — while a healthy session on the same origin goes on, the
 * origin stays healthy in the pool, and new sessions are still placed on it.
 */
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningStack } from "../../infra/local/stack.ts";
import { DEV_ADMIN_TOKEN } from "../../infra/local/dev-secrets.ts";
import { httpJson, openWebSocket, type JsonResponse, type WsClient } from "./support/http-clients.ts";
import { originRequests, testStack } from "./support/stack.ts";
import { createTlcpSession, openTlcpWebSocket, tlcpLines, TLCP_SUBPROTOCOL } from "./support/tlcp-raw.ts";
import { WAIT_MS, withTimeout } from "./support/wait.ts";

const LIMITS = { urlBytes: 2048, headerBytes: 8192, bodyBytes: 16_384, webSocketMessageBytes: 8192, protocolLineBytes: 4096 };

let stack: RunningStack;
let healthy: { session: Session; ws: WsClient };
let echoes = 0;

type Session = { id: string; token: string };

beforeAll(async () => {
  stack = await testStack({ originCount: 1, originArgs: ["--interval-ms", "0"], poolSettings: { limits: LIMITS } });
  const session = await createSession();
  healthy = { session, ws: await openWs(session) };
});
afterAll(async () => {
  healthy?.ws.ws.close(1000);
  await stack?.close();
});

async function createSession(): Promise<Session> {
  const res = await httpJson(`${stack.edgeUrl}/session`, { method: "POST" });
  expect(res.status).toBe(201);
  return { id: (res.body as { id: string }).id, token: String(res.headers["x-affinity-token"]) };
}

async function openWs(session: Session): Promise<WsClient> {
  const ws = await openWebSocket(`${stack.edgeUrl.replace(/^http/, "ws")}/session/${session.id}/ws?interval_ms=0`, {
    "x-affinity-token": session.token,
  });
  expect(await ws.nextJson()).toMatchObject({ type: "hello" });
  return ws;
}

/** The healthy session still echoes, the origin is still healthy, and a new session is placed. */
async function othersUnaffected(): Promise<void> {
  const text = `still here ${++echoes}`;
  healthy.ws.ws.send(text);
  expect((await healthy.ws.next("the healthy session's echo")).data.toString()).toBe(text);
  const pool = await httpJson(`${stack.edgeUrl}/_edge/admin/pool`, { headers: { authorization: `Bearer ${DEV_ADMIN_TOKEN}` } });
  const origins = (pool.body as { pools: Array<{ origins: Array<{ id: string; healthy: boolean }> }> }).pools[0]?.origins ?? [];
  expect(origins.map((o) => o.healthy)).toEqual([true]);
  await createSession();
}

function expectJsonError(res: JsonResponse, status: number, code: string): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers["content-type"]).toMatch(/^application\/json/);
  expect(res.body).toMatchObject({ error: code, message: expect.any(String) });
}

/** A POST whose body is sent chunked (no Content-Length): the edge must count it as it streams. */
function chunkedPost(url: string, headers: Record<string, string>, chunks: Buffer[]): Promise<JsonResponse> {
  return withTimeout(
    new Promise<JsonResponse>((resolve, reject) => {
      const req = httpRequest(url, { method: "POST", agent: false, headers: { ...headers, "transfer-encoding": "chunked" } }, (res) => {
        const parts: Buffer[] = [];
        res.on("data", (c: Buffer) => parts.push(c));
        res.on("end", () => {
          const text = Buffer.concat(parts).toString();
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      });
      // The edge may answer (and close) before the whole body is sent.
      req.on("error", (err) => (err.message.includes("EPIPE") || err.message.includes("ECONNRESET") ? undefined : reject(err)));
      for (const c of chunks) req.write(c);
      req.end();
    }),
    WAIT_MS,
    `chunked POST ${url}`,
  );
}

describe("HTTP limits", () => {
  it("refuses a URL over urlBytes with 414 url_too_long, on S and CR alike", async () => {
    const long = "x".repeat(LIMITS.urlBytes);
    expectJsonError(await httpJson(`${stack.edgeUrl}/session?pad=${long}`, { method: "POST" }), 414, "url_too_long");
    const cr = healthy.session;
    expectJsonError(await httpJson(`${stack.edgeUrl}/session/${cr.id}?pad=${long}`, { headers: { "x-affinity-token": cr.token } }), 414, "url_too_long");
    // Just under the limit is served.
    const fits = "x".repeat(LIMITS.urlBytes - 200);
    expect((await httpJson(`${stack.edgeUrl}/session/${cr.id}?pad=${fits}`, { headers: { "x-affinity-token": cr.token } })).status).toBe(200);
    await othersUnaffected();
  });

  it("refuses headers over headerBytes in total with 431 headers_too_large", async () => {
    const headers: Record<string, string> = {};
    for (let i = 0; i < 10; i++) headers[`x-pad-${i}`] = "y".repeat(1000);
    expectJsonError(await httpJson(`${stack.edgeUrl}/session`, { method: "POST", headers }), 431, "headers_too_large");
    await othersUnaffected();
  });

  it("refuses a CR body whose Content-Length is over bodyBytes up front: the origin never sees it", async () => {
    const session = await createSession();
    const before = (await originRequests(stack)).get("o1")?.length ?? 0;
    const big = JSON.stringify({ cmd: "emit", data: "z".repeat(LIMITS.bodyBytes) });
    const res = await httpJson(`${stack.edgeUrl}/session/${session.id}/control`, {
      method: "POST",
      headers: { "x-affinity-token": session.token },
      rawBody: big,
    });
    expectJsonError(res, 413, "body_too_large");
    const after = (await originRequests(stack)).get("o1") ?? [];
    expect(after.slice(before).filter((r) => r.path.endsWith("/control"))).toEqual([]);
    await othersUnaffected();
  });

  it("cuts a chunked CR body once it streams past bodyBytes (413): the origin acts on none of it, and is not marked down", async () => {
    const session = await createSession();
    const before = (await originRequests(stack)).get("o1")?.length ?? 0;
    // The first bodyBytes are a complete JSON command, the rest trailing whitespace: an
    // origin handed the cut-off body as if it were whole would run the command and answer 200.
    const command = `{"cmd":"echo","data":"${"a".repeat(LIMITS.bodyBytes - 24)}"}`;
    expect(command.length).toBe(LIMITS.bodyBytes);
    const body = Buffer.concat([Buffer.from(command), Buffer.alloc(LIMITS.bodyBytes, 0x20)]);
    const chunks = Array.from({ length: body.length / 4096 }, (_, i) => body.subarray(i * 4096, (i + 1) * 4096));
    const res = await chunkedPost(`${stack.edgeUrl}/session/${session.id}/control`, { "x-affinity-token": session.token, "content-type": "application/json" }, chunks);
    expectJsonError(res, 413, "body_too_large");
    expect(res.body).toMatchObject({ message: `the request body exceeds ${LIMITS.bodyBytes} bytes` });
    const after = (await originRequests(stack)).get("o1") ?? [];
    expect(after.slice(before).filter((r) => r.path.endsWith("/control") && r.status === 200)).toEqual([]);
    // A chunked body within the limit goes through.
    const ok = await chunkedPost(
      `${stack.edgeUrl}/session/${session.id}/control`,
      { "x-affinity-token": session.token, "content-type": "application/json" },
      [Buffer.from('{"cmd":"echo",'), Buffer.from('"data":"fits"}')],
    );
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ cmd: "echo" });
    await othersUnaffected();
  });

  it("answers an Engine.IO polling POST over bodyBytes in Engine.IO's JSON, status 413", async () => {
    const res = await httpJson(`${stack.edgeUrl}/socket.io/?EIO=4&transport=polling&sid=anything`, {
      method: "POST",
      rawBody: "4".repeat(LIMITS.bodyBytes + 1),
      headers: { "content-type": "text/plain" },
    });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ code: 3 });
    expect(res.headers["x-push-edge-error"]).toBe("body_too_large");
    await othersUnaffected();
  });
});

describe("WebSocket message limit", () => {
  it("closes a session whose client sends a message over the limit with 1009 and a reason; only that one", async () => {
    const session = await createSession();
    const ws = await openWs(session);
    ws.ws.send("q".repeat(LIMITS.webSocketMessageBytes - 100));
    expect((await ws.next("an echo of a message within the limit")).data.length).toBe(LIMITS.webSocketMessageBytes - 100);
    // Multi-byte text: 3000 characters, 9000 UTF-8 bytes — over 8192 though under it in UTF-16 units.
    ws.ws.send("€".repeat(3000));
    expect(await ws.closed()).toEqual({ code: 1009, reason: `client message exceeds the ${LIMITS.webSocketMessageBytes}-byte limit` });
    await othersUnaffected();
  });

  it("closes a session whose origin sends a message over the limit with 1009", async () => {
    const session = await createSession();
    const ws = await openWs(session);
    const res = await httpJson(`${stack.edgeUrl}/session/${session.id}/control`, {
      method: "POST",
      headers: { "x-affinity-token": session.token },
      body: { cmd: "emit", data: "o".repeat(LIMITS.webSocketMessageBytes) },
    });
    expect(res.status).toBe(200);
    expect(await ws.closed()).toEqual({ code: 1009, reason: `origin message exceeds the ${LIMITS.webSocketMessageBytes}-byte limit` });
    await othersUnaffected();
  });
});

describe("protocol-line limits (TLCP)", () => {
  it("answers a control request with a line over protocolLineBytes with ERROR,65; the session goes on", async () => {
    const id = await createTlcpSession(stack.edgeUrl);
    const long = `LS_reqId=1&LS_op=add&LS_session=${id}&LS_group=${"g".repeat(LIMITS.protocolLineBytes)}`;
    const refused = await tlcpLines(stack.edgeUrl, "control", long);
    expect(refused.status).toBe(200);
    expect(refused.lines).toEqual([expect.stringMatching(/^ERROR,65,a request line exceeds 4096 bytes$/)]);
    // The same session still takes a well-formed request.
    const ok = await tlcpLines(stack.edgeUrl, "control", `LS_reqId=2&LS_op=add&LS_session=${id}&LS_subId=1&LS_group=clock&LS_schema=seq&LS_mode=MERGE`);
    expect(ok.lines[0]).toMatch(/^REQ(OK|ERR),2/);
    await othersUnaffected();
  });

  it("answers a bind_session line over the limit with CONERR,65", async () => {
    const refused = await tlcpLines(stack.edgeUrl, "bind_session", `LS_session=x&LS_pad=${"p".repeat(LIMITS.protocolLineBytes)}`);
    expect(refused.lines).toEqual([expect.stringMatching(/^CONERR,65,/)]);
    await othersUnaffected();
  });

  it("answers a WebSocket opening message over the limit with CONERR,65 and close 1009; garbage with CONERR", async () => {
    const tlcp = await openTlcpWebSocket(stack.edgeUrl, [TLCP_SUBPROTOCOL]);
    tlcp.send(`create_session\r\nLS_cid=x&LS_pad=${"p".repeat(LIMITS.protocolLineBytes)}\r\n`);
    expect(await tlcp.lines.next("the refusal")).toMatch(/^CONERR,65,opening request exceeds 4096 bytes$/);
    const closed = await withTimeout(new Promise<number>((resolve) => tlcp.ws.once("close", (code) => resolve(code))), WAIT_MS, "close");
    expect(closed).toBe(1009);
    const garbage = await openTlcpWebSocket(stack.edgeUrl, [TLCP_SUBPROTOCOL]);
    garbage.send("\u0000\u0001 not tlcp at all\r\n");
    expect(await garbage.lines.next("the refusal")).toMatch(/^CONERR,20,/);
    await garbage.close();
    await othersUnaffected();
  });
});
