/**
 * Issue 16 F9, end to end (edge in workerd, a real reference origin): clients that trickle
 * a request body — one byte every 300 ms, never finishing — against a pool whose body-read
 * deadline (`settings.limits.bodyReadMs`) is 1 s. Each gets 408 `body_timeout` (JSON, or
 * TLCP's own error line) instead of holding its connection, and the origin acts on none
 * of it: an S body read at the edge never reaches the origin; a CR body streamed to the
 * origin is cut there before its end, so the command in it is not run.
 * Every wait is bounded; the trickle stops when the answer comes (or after 8 s).
 */
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningStack } from "../../infra/local/stack.ts";
import { httpJson } from "./support/http-clients.ts";
import { originRequests, testStack } from "./support/stack.ts";
import { createTlcpSession, tlcpRequest } from "./support/tlcp-raw.ts";
import { proxyStack } from "./support/edge-proxy.ts";
import { withTimeout } from "./support/wait.ts";

const DEADLINE_MS = 1_000;
const TRICKLE_MS = 300;
/** Far past the deadline: an answer later than this means there was none. */
const GIVE_UP_MS = 8_000;

const POOL_SETTINGS = { limits: { bodyReadMs: DEADLINE_MS } };
const TRANSPORTS = [
  {
    transport: "fetch",
    start: async (): Promise<{ stack: RunningStack; close: () => Promise<void> }> => {
      const s = await testStack({ originCount: 1, originArgs: ["--interval-ms", "0"], poolSettings: POOL_SETTINGS });
      return { stack: s, close: () => s.close() };
    },
  },
  {
    transport: "tcp (PROXY v2)",
    start: async (): Promise<{ stack: RunningStack; close: () => Promise<void> }> => {
      const ps = await proxyStack({ version: 2, originArgs: ["--interval-ms", "0"], poolSettings: POOL_SETTINGS });
      return { stack: ps.stack, close: () => ps.close() };
    },
  },
] as const;

let stack: RunningStack;
let closeStack: (() => Promise<void>) | undefined;

/**
 * Sends `head`, then `bodyByte` every TRICKLE_MS without ever ending the body, until the
 * edge answers; returns the answer's status line and body (as far as it came).
 */
async function trickle(head: string, bodyByte = "x"): Promise<{ status: number; body: string }> {
  const socket = connect({ port: Number(new URL(stack.edgeUrl).port), host: "127.0.0.1" });
  socket.on("error", () => {});
  let received = "";
  const answered = new Promise<void>((resolve) => {
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("utf8");
      const end = received.indexOf("\r\n\r\n");
      const length = /content-length: (\d+)/i.exec(received)?.[1];
      if (end !== -1 && length !== undefined && received.length >= end + 4 + Number(length)) resolve();
    });
    socket.on("close", () => resolve());
  });
  socket.write(head);
  const timer = setInterval(() => socket.write(bodyByte), TRICKLE_MS);
  try {
    await withTimeout(answered, GIVE_UP_MS, "the edge's answer to a trickled body");
  } finally {
    clearInterval(timer);
    socket.destroy();
  }
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1] ?? "0");
  return { status, body: received.slice(received.indexOf("\r\n\r\n") + 4) };
}

const host = () => new URL(stack.edgeUrl).host;

describe.each(TRANSPORTS)("body-read deadline (issue 16 F9), $transport transport", ({ start }) => {
  beforeAll(async () => {
    ({ stack, close: closeStack } = await start());
  });
  afterAll(async () => {
    await closeStack?.();
  });

  it("S: a trickled body is answered 408 body_timeout, and the origin never sees the request", async () => {
    const before = (await originRequests(stack)).get("o1")?.length ?? 0;
    const answer = await trickle(`POST /session HTTP/1.1\r\nHost: ${host()}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`);
    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.body)).toMatchObject({ error: "body_timeout" });
    expect(((await originRequests(stack)).get("o1") ?? []).slice(before)).toEqual([]);
  });

  it("CR: a body streamed to the origin is cut at the deadline; the command in it is not run", async () => {
    const created = await httpJson(`${stack.edgeUrl}/session`, { method: "POST" });
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;
    const token = String(created.headers["x-affinity-token"]);
    // {"cmd":"close"} would end the session; it never arrives whole.
    const answer = await trickle(
      `POST /session/${id}/control HTTP/1.1\r\nHost: ${host()}\r\nX-Affinity-Token: ${token}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"cmd":"close"`,
      " ",
    );
    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.body)).toMatchObject({ error: "body_timeout" });
    // The session is still open at the origin: the cut body was not acted on.
    const record = await httpJson(`${stack.edgeUrl}/session/${id}`, { headers: { "x-affinity-token": token } });
    expect(record.status).toBe(200);
    expect(record.body).toMatchObject({ id });
  });

  it("TLCP: a trickled control body at the edge gets TLCP's error line, not a hang", async () => {
    const session = await createTlcpSession(stack.edgeUrl);
    const answer = await trickle(
      `POST /lightstreamer/control.txt?LS_protocol=TLCP-2.5.0&LS_session=${session} HTTP/1.1\r\nHost: ${host()}\r\nContent-Type: text/plain\r\nContent-Length: 300\r\n\r\nLS_reqId=1&LS_op=destroy`,
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toMatch(/^ERROR,65,/);
  });

  it("a body that arrived whole is not held to the deadline: its streamed answer outlives it", async () => {
    const session = await createTlcpSession(stack.edgeUrl);
    // A streaming bind (the body is complete at once); the origin PROBEs every ~160 ms.
    const stream = await tlcpRequest(stack.edgeUrl, "bind_session", `LS_session=${session}&LS_keepalive_millis=200`);
    try {
      expect(await stream.lines.next("CONOK")).toMatch(/^CONOK,/);
      const until = Date.now() + 3 * DEADLINE_MS;
      let probes = 0;
      while (Date.now() < until) if ((await stream.lines.next("PROBE")) === "PROBE") probes++;
      expect(probes).toBeGreaterThan(0);
      expect(stream.lines.ended).toBeUndefined();
    } finally {
      stream.close();
    }
  });

  it("a body that arrives in time is unaffected", async () => {
    const created = await httpJson(`${stack.edgeUrl}/session`, { method: "POST", body: { hello: "x" } });
    expect(created.status).toBe(201);
  });
});
