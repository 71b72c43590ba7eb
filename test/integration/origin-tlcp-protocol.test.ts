// TLCP on the wire, without a client library: exact answers to malformed, batched and
// unacknowledged requests, unknown sessions, content-length LOOPs, PROBEs, field encoding,
// recovery and destroy, over HTTP and WebSocket.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { parseCliArgs } from "../../infra/origin/cli-args.ts";
import { startOrigin, type RunningOrigin } from "../../infra/origin/origin.ts";
import { encodeFieldValue, UNCHANGED, update } from "../../infra/origin/tlcp/encoding.ts";
import { httpJson } from "./support/http-clients.ts";
import { createTlcpSession, openTlcpWebSocket, tlcpLines, tlcpRequest, TLCP_SUBPROTOCOL, type TlcpWebSocket } from "./support/tlcp-raw.ts";
import { WAIT_MS, withTimeout } from "./support/wait.ts";

const ORIGIN_ID = "tlcp-raw-1";
const CLOCK = "LS_op=add&LS_mode=MERGE&LS_group=clock&LS_schema=seq%20ts%20origin";

/** The clock's seq from a U line of a `seq ts origin` subscription. */
function seqOf(line: string): number {
  const match = /^U,\d+,\d+,(\d+)\|/.exec(line);
  if (match === null) throw new Error(`not a clock update: ${line}`);
  return Number(match[1]);
}

describe("TLCP on the wire", () => {
  let origin: RunningOrigin;
  let base: string;
  let createOnly: string;
  let controlOnly: string;
  const sockets: TlcpWebSocket[] = [];

  const openWs = async (url = base): Promise<TlcpWebSocket> => {
    const socket = await openTlcpWebSocket(url);
    sockets.push(socket);
    return socket;
  };

  beforeAll(async () => {
    origin = await startOrigin({
      id: ORIGIN_ID,
      listeners: [
        { kind: "combined", host: "127.0.0.1", port: 0 },
        { kind: "create", host: "127.0.0.1", port: 0 },
        { kind: "control", host: "127.0.0.1", port: 0 },
      ],
      tlcpClockMs: 50,
    });
    const [combined, create, control] = origin.listeners;
    if (combined === undefined || create === undefined || control === undefined) throw new Error("listeners missing");
    base = combined.url;
    createOnly = create.url;
    controlOnly = control.url;
  });
  afterAll(async () => {
    await Promise.allSettled(sockets.map((socket) => socket.close()));
    await origin.close();
  });

  it("create_session over HTTP: CONOK, SERVNAME, CLIENTIP, CONS, then LOOP for a zero-length poll; logged with its session", async () => {
    const answer = await tlcpLines(base, "create_session", "LS_polling=true&LS_polling_millis=0&LS_idle_millis=0&LS_adapter_set=DEMO&LS_cid=x");
    expect(answer.status).toBe(200);
    expect(answer.headers["x-origin-id"]).toBe(ORIGIN_ID);
    expect(answer.headers["content-type"]).toMatch(/^text\/plain/);
    // The origin relies on no cookie: it sets none.
    expect(answer.headers["set-cookie"]).toBeUndefined();
    const id = answer.lines[0]?.split(",")[1] ?? "";
    expect(id).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(answer.lines).toEqual([`CONOK,${id},50000,0,*`, `SERVNAME,${ORIGIN_ID}`, "CLIENTIP,127.0.0.1", "CONS,unlimited", "LOOP,0"]);

    const log = origin.requests().filter((entry) => entry.session === id);
    expect(log).toEqual([expect.objectContaining({ method: "POST", path: "/lightstreamer/create_session.txt", status: 200, listener: "combined" })]);
    const health = await httpJson(`${base}/health`);
    expect((health.body as { sessions: number }).sessions).toBeGreaterThanOrEqual(1);
  });

  it("bad percent-escapes get CONERR / REQERR / ERROR, and harm nothing else", async () => {
    const create = await tlcpLines(base, "create_session", "LS_polling=true&LS_idle_millis=0&LS_adapter_set=%E0%A4%A");
    expect(create.lines).toEqual([expect.stringMatching(/^CONERR,65,/)]);

    const id = await createTlcpSession(base);
    const control = await tlcpLines(
      base,
      "control",
      ["LS_reqId=1&LS_op=add&LS_subId=%ZZ", "LS_reqId=%G1&LS_op=destroy", "LS_reqId=3&LS_op=delete&LS_subId=99"].join("\r\n"),
      { LS_session: id },
    );
    expect(control.lines).toEqual([
      expect.stringMatching(/^REQERR,1,65,bad percent-encoding/),
      expect.stringMatching(/^ERROR,65,/),
      expect.stringMatching(/^REQERR,3,19,/),
    ]);
    const bind = await tlcpLines(base, "bind_session", `LS_session=${id}&LS_polling=true&LS_idle_millis=%`);
    expect(bind.lines).toEqual([expect.stringMatching(/^CONERR,65,/)]);

    const socket = await openWs();
    socket.send("create_session\r\nLS_adapter_set=%FF%FE");
    expect(await socket.lines.next("CONERR for a bad escape over WebSocket")).toMatch(/^CONERR,65,/);

    // The session survived its neighbours' garbage.
    const poll = await tlcpLines(base, "bind_session", `LS_session=${id}&LS_polling=true&LS_idle_millis=0`);
    expect(poll.lines[0]).toBe(`CONOK,${id},50000,0,*`);
  });

  it("a bind naming an unknown session gets CONERR,20, over HTTP and WebSocket", async () => {
    const http = await tlcpLines(base, "bind_session", "LS_session=no-such-session&LS_content_length=100000");
    expect(http.status).toBe(200);
    expect(http.lines).toEqual([expect.stringMatching(/^CONERR,20,/)]);
    expect(origin.requests().some((entry) => entry.path === "/lightstreamer/bind_session.txt" && entry.session === "no-such-session")).toBe(true);

    const socket = await openWs();
    socket.send("wsok");
    expect(await socket.lines.next("WSOK")).toBe("WSOK");
    socket.send("bind_session\r\nLS_session=no-such-session");
    expect(await socket.lines.next("CONERR over WebSocket")).toMatch(/^CONERR,20,/);
  });

  it("a batch of control lines gets one answer per line, in order, with the exact reqIds", async () => {
    const id = await createTlcpSession(base);
    const body = [
      `LS_reqId=17&${CLOCK}&LS_subId=1`,
      "LS_reqId=4&LS_op=delete&LS_subId=42",
      "LS_reqId=250&LS_op=add&LS_subId=2&LS_mode=MERGE&LS_group=nothing&LS_schema=seq",
      "LS_reqId=9&LS_op=constrain&LS_requested_max_bandwidth=unlimited",
      "LS_reqId=0031&LS_op=delete&LS_subId=1",
    ].join("\r\n");
    const answer = await tlcpLines(base, "control", body, { LS_session: id });
    expect(answer.lines).toEqual([
      "REQOK,17",
      expect.stringMatching(/^REQERR,4,19,/),
      expect.stringMatching(/^REQERR,250,21,/),
      "REQOK,9",
      "REQOK,0031",
    ]);

    // Over WebSocket: the answers of a batch come in one message, in order.
    const socket = await openWs();
    socket.send("wsok");
    socket.send("create_session\r\nLS_adapter_set=DEMO&LS_cid=x");
    await socket.lines.until((line) => line.startsWith("CONS,"), "the WebSocket session's preamble");
    const before = socket.messages.length;
    socket.send(["control", "LS_reqId=5&LS_op=delete&LS_subId=3", `LS_reqId=6&${CLOCK}&LS_subId=3`, "LS_reqId=7&LS_op=bogus"].join("\r\n"));
    const lines = await socket.lines.until((line) => line.startsWith("REQERR,7,"), "the batch's answers");
    expect(lines.filter((line) => /^REQ/.test(line))).toEqual([expect.stringMatching(/^REQERR,5,19,/), "REQOK,6", expect.stringMatching(/^REQERR,7,65,/)]);
    expect(socket.messages[before]).toMatch(/^REQERR,5,19,[^\r]*\r\nREQOK,6\r\nREQERR,7,65,/);
  });

  it("LS_ack=false suppresses REQOK, never REQERR, and the request still takes effect", async () => {
    const id = await createTlcpSession(base);
    const answer = await tlcpLines(
      base,
      "control",
      [`LS_reqId=1&${CLOCK}&LS_subId=1&LS_ack=false`, "LS_reqId=2&LS_op=delete&LS_subId=77&LS_ack=false", "LS_reqId=3&LS_op=constrain"].join("\r\n"),
      { LS_session: id },
    );
    expect(answer.lines).toEqual([expect.stringMatching(/^REQERR,2,19,/), "REQOK,3"]);
    const poll = await tlcpLines(base, "bind_session", `LS_session=${id}&LS_polling=true&LS_idle_millis=5000`);
    expect(poll.lines).toContain("SUBOK,1,1,3");

    const socket = await openWs();
    socket.send("create_session\r\nLS_adapter_set=DEMO&LS_cid=x");
    await socket.lines.until((line) => line.startsWith("CONS,"), "the WebSocket session's preamble");
    socket.send("msg\r\nLS_reqId=8&LS_message=quiet&LS_outcome=false&LS_ack=false");
    socket.send("heartbeat\r\nLS_reqId=9");
    const lines = await socket.lines.until((line) => line === "REQOK,9", "the heartbeat's REQOK");
    expect(lines.filter((line) => line.startsWith("REQ"))).toEqual(["REQOK,9"]);
  });

  it("HTTP streaming ends with LOOP,0 before LS_content_length is exceeded; the rebind continues without a gap", async () => {
    const id = await createTlcpSession(base);
    await tlcpLines(base, "control", `LS_reqId=1&${CLOCK}&LS_subId=1`, { LS_session: id });
    const first = await tlcpRequest(base, "bind_session", `LS_session=${id}&LS_content_length=600&LS_send_sync=false`);
    const firstLines = await first.lines.rest("the first stream to end at its content length");
    expect(first.bytes()).toBeLessThanOrEqual(600);
    expect(firstLines.at(-1)).toBe("LOOP,0");
    const firstUpdates = firstLines.filter((line) => line.startsWith("U,"));
    expect(firstUpdates.length).toBeGreaterThan(2);
    const delivered = firstLines.filter((line) => /^(U|SUBOK),/.test(line)).length;

    const second = await tlcpRequest(base, "bind_session", `LS_session=${id}&LS_content_length=100000`);
    try {
      const lines = await second.lines.until((line) => line.startsWith("U,"), "the first update after the rebind");
      expect(lines).toContain(`PROG,${delivered}`);
      const seqs = [...firstUpdates, lines.at(-1) ?? ""].map(seqOf);
      const start = seqs[0] ?? 0;
      expect(seqs).toEqual(seqs.map((_, index) => start + index));
    } finally {
      second.close();
    }
  });

  it("an idle stream gets PROBE before its keep-alive runs out, over HTTP and WebSocket", async () => {
    const id = await createTlcpSession(base);
    const stream = await tlcpRequest(base, "bind_session", `LS_session=${id}&LS_keepalive_millis=300&LS_content_length=100000`);
    try {
      expect(await stream.lines.next("CONOK")).toBe(`CONOK,${id},50000,300,*`);
      const lines = await stream.lines.until((line) => line === "PROBE", "a PROBE on the idle HTTP stream", 5_000);
      expect(lines.every((line) => /^(CLIENTIP|PROG|SYNC|PROBE)/.test(line))).toBe(true);
      expect(await stream.lines.next("a second PROBE", 5_000)).toBe("PROBE");
    } finally {
      stream.close();
    }

    const socket = await openWs();
    socket.send("create_session\r\nLS_adapter_set=DEMO&LS_keepalive_millis=200");
    expect(await socket.lines.next("CONOK over WebSocket")).toMatch(/^CONOK,[^,]+,50000,200,\*$/);
    await socket.lines.until((line) => line === "PROBE", "a PROBE on the idle WebSocket", 5_000);
  });

  it("encodes null, empty, unchanged and special characters the way clients decode them", async () => {
    expect(encodeFieldValue(null)).toBe("#");
    expect(encodeFieldValue("")).toBe("$");
    expect(encodeFieldValue(UNCHANGED)).toBe("");
    expect(encodeFieldValue("a|b")).toBe("a%7Cb");
    expect(encodeFieldValue("#x")).toBe("%23x");
    expect(encodeFieldValue("x#")).toBe("x#");
    expect(encodeFieldValue("$")).toBe("%24");
    expect(encodeFieldValue("^2")).toBe("%5E2");
    expect(encodeFieldValue("50%")).toBe("50%25");
    expect(encodeFieldValue("a\r\nb")).toBe("a%0D%0Ab");
    expect(encodeFieldValue("héllo")).toBe("héllo");
    expect(update(3, 2, [null, "", UNCHANGED, "a|b"])).toBe("U,3,2,#|$||a%7Cb");

    // End to end: chat messages through msg.txt, seen on the session's stream.
    const id = await createTlcpSession(base);
    await tlcpLines(base, "control", "LS_reqId=1&LS_op=add&LS_subId=1&LS_mode=RAW&LS_group=chat&LS_schema=message%20origin", { LS_session: id });
    const stream = await tlcpRequest(base, "bind_session", `LS_session=${id}&LS_content_length=100000`);
    try {
      const messages = ["", "a|b", "a|b", "#1"];
      const body = messages.map((text, index) => `LS_reqId=${index + 10}&LS_message=${encodeURIComponent(text)}&LS_outcome=false`).join("\r\n");
      const sent = await tlcpLines(base, "msg", body, { LS_session: id });
      expect(sent.lines).toEqual(["REQOK,10", "REQOK,11", "REQOK,12", "REQOK,13"]);
      const updates: string[] = [];
      while (updates.length < messages.length) {
        const line = await stream.lines.next("the chat updates");
        if (line.startsWith("U,")) updates.push(line);
      }
      expect(updates).toEqual([`U,1,1,$|${ORIGIN_ID}`, "U,1,1,a%7Cb|", "U,1,1,|", "U,1,1,%231|"]);
    } finally {
      stream.close();
    }
  });

  it("a recovery bind (LS_recovery_from) replays what the client missed, after PROG", async () => {
    const id = await createTlcpSession(base);
    await tlcpLines(base, "control", `LS_reqId=1&${CLOCK}&LS_subId=1`, { LS_session: id });
    const stream = await tlcpRequest(base, "bind_session", `LS_session=${id}&LS_content_length=100000`);
    const seen: string[] = [];
    while (seen.filter((line) => line.startsWith("U,")).length < 4) seen.push(await stream.lines.next("clock updates"));
    stream.close();
    const data = seen.filter((line) => /^(SUBOK|U),/.test(line));

    // The client says it only got SUBOK and the first update.
    const recovery = await tlcpRequest(base, "bind_session", `LS_session=${id}&LS_recovery_from=2&LS_polling=true&LS_idle_millis=0`);
    const lines = await recovery.lines.rest("the recovery poll");
    expect(lines).toContain("PROG,2");
    const replayed = lines.filter((line) => line.startsWith("U,"));
    expect(replayed.slice(0, 3)).toEqual(data.slice(2, 5));

    const tooFar = await tlcpLines(base, "bind_session", `LS_session=${id}&LS_recovery_from=999999`);
    expect(tooFar.lines).toEqual([expect.stringMatching(/^CONERR,20,/)]);
  });

  it("destroy: REQOK, then END,31 on the session's stream; the session is gone", async () => {
    const id = await createTlcpSession(base);
    const stream = await tlcpRequest(base, "bind_session", `LS_session=${id}&LS_content_length=100000`);
    await stream.lines.until((line) => line.startsWith("PROG,"), "the bind's preamble");
    const answer = await tlcpLines(base, "control", "LS_reqId=5&LS_op=destroy&LS_cause=test", { LS_session: id });
    expect(answer.lines).toEqual(["REQOK,5"]);
    const rest = await stream.lines.rest("the stream to end after destroy");
    expect(rest.at(-1)).toMatch(/^END,31,/);
    const bind = await tlcpLines(base, "bind_session", `LS_session=${id}`);
    expect(bind.lines).toEqual([expect.stringMatching(/^CONERR,20,/)]);
    const control = await tlcpLines(base, "control", "LS_reqId=6&LS_op=constrain", { LS_session: id });
    expect(control.lines).toEqual([expect.stringMatching(/^REQERR,6,20,/)]);

    // Over WebSocket with LS_close_socket=true: REQOK, END, then the socket closes.
    const socket = await openWs();
    socket.send("wsok");
    socket.send("create_session\r\nLS_adapter_set=DEMO");
    await socket.lines.until((line) => line.startsWith("CONS,"), "the WebSocket session's preamble");
    socket.send("control\r\nLS_reqId=1&LS_op=destroy&LS_close_socket=true");
    const last = await socket.lines.rest("the WebSocket to close after destroy");
    // (SYNC, the preamble's last line, may still be queued ahead of them.)
    expect(last.filter((line) => !line.startsWith("SYNC,"))).toEqual(["REQOK,1", expect.stringMatching(/^END,31,/)]);
  });

  it("listener kinds: create_session only where S requests go, binds and controls only where CR requests go", async () => {
    const wrongCreate = await httpJson(`${controlOnly}/lightstreamer/create_session.txt`, { method: "POST", rawBody: "LS_polling=true" });
    expect(wrongCreate.status).toBe(404);
    expect(wrongCreate.body).toMatchObject({ error: "wrong_listener" });
    const id = await createTlcpSession(createOnly);
    const wrongBind = await httpJson(`${createOnly}/lightstreamer/bind_session.txt`, { method: "POST", rawBody: `LS_session=${id}` });
    expect(wrongBind.status).toBe(404);
    const poll = await tlcpLines(controlOnly, "bind_session", `LS_session=${id}&LS_polling=true&LS_idle_millis=0`);
    expect(poll.lines[0]).toBe(`CONOK,${id},50000,0,*`);

    // A WebSocket says what it is with its first request.
    const control = await openWs(controlOnly);
    control.send("create_session\r\nLS_adapter_set=DEMO");
    expect(await control.lines.next("CONERR on a control listener")).toMatch(/^CONERR,10,/);
    const create = await openWs(createOnly);
    create.send(`bind_session\r\nLS_session=${id}`);
    expect(await create.lines.next("CONERR on a create listener")).toMatch(/^CONERR,21,/);
  });

  it("WebSocket handshake: the TLCP subprotocol is echoed with X-Origin-Id; another subprotocol is refused", async () => {
    const socket = await openWs();
    expect(socket.ws.protocol).toBe(TLCP_SUBPROTOCOL);
    expect(socket.upgradeHeaders["x-origin-id"]).toBe(ORIGIN_ID);

    const refused = new WebSocket(`${base.replace("http", "ws")}/lightstreamer`, ["chat.example"]);
    refused.on("error", () => {});
    const status = await withTimeout(
      new Promise<number>((resolve) => {
        refused.once("unexpected-response", (_req, res) => {
          resolve(res.statusCode ?? 0);
          res.resume();
        });
        refused.once("open", () => resolve(101));
      }),
      WAIT_MS,
      "the refused handshake",
    );
    refused.terminate();
    expect(status).toBe(400);
  });

  it("browsers may read answers from any page (CORS), preflight included", async () => {
    const preflight = await httpJson(`${base}/lightstreamer/create_session.txt`, {
      method: "OPTIONS",
      headers: { Origin: "https://app.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers).toMatchObject({
      "x-origin-id": ORIGIN_ID,
      "access-control-allow-origin": "https://app.example",
      "access-control-allow-credentials": "true",
      "access-control-allow-headers": "content-type",
    });
    const create = await httpJson(`${base}/lightstreamer/create_session.txt?LS_protocol=TLCP-2.5.0`, {
      method: "POST",
      rawBody: "LS_polling=true&LS_idle_millis=0&LS_adapter_set=DEMO",
      headers: { Origin: "https://app.example", "Content-Type": "text/plain; charset=utf-8" },
    });
    expect(create.headers["access-control-allow-origin"]).toBe("https://app.example");
    expect(String(create.body)).toMatch(/^CONOK,/);
  });

  it("the CLI sets the TLCP options and names a bad flag", () => {
    const parsed = parseCliArgs([
      "--id", "x", "--listen", "combined=127.0.0.1:0",
      "--tlcp-clock-ms", "20", "--tlcp-keepalive-ms", "1000", "--tlcp-session-expiry-ms", "5000",
    ]);
    expect(parsed).toMatchObject({ kind: "run", options: { tlcpClockMs: 20, tlcpKeepAliveMs: 1000, tlcpSessionExpiryMs: 5000 } });
    expect(() => parseCliArgs(["--id", "x", "--listen", "combined=127.0.0.1:0", "--tlcp-clock-ms", "fast"])).toThrow(/--tlcp-clock-ms/);
  });

  it("origin shutdown ends TLCP streams with END,41 (clients open a new session)", async () => {
    const own = await startOrigin({ id: "tlcp-raw-2", listeners: [{ kind: "combined", host: "127.0.0.1", port: 0 }] });
    const url = own.listeners[0]?.url ?? "";
    const id = await createTlcpSession(url);
    const stream = await tlcpRequest(url, "bind_session", `LS_session=${id}&LS_content_length=100000`);
    await stream.lines.until((line) => line.startsWith("PROG,"), "the bind's preamble");
    const closing = own.close();
    const rest = await stream.lines.rest("the stream to end at shutdown");
    await closing;
    expect(rest.at(-1)).toMatch(/^END,41,/);
  });
});
