import { describe, expect, it } from "vitest";
import { rewriteConok, rewriteConokIn, rewriteFirstLine, splitFirstLine } from "../../protocols/tlcp/conok.ts";
import { findSession, replaceSession, requestIds } from "../../protocols/tlcp/params.ts";
import { tlcpAdapter } from "../../protocols/tlcp/adapter.ts";
import { adapterFor } from "../../protocols/registry.ts";

const TOKEN = "aaa.bbb.ccc";

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(encoder.encode(c));
      controller.close();
    },
  });
}

describe("TLCP session ids", () => {
  it("rewrites CONOK: token for the session id, * for the control link", () => {
    expect(rewriteConok("CONOK,S1a2b,50000,5000,push1.example.com", TOKEN)).toEqual({
      line: `CONOK,${TOKEN},50000,5000,*`,
      originSessionId: "S1a2b",
    });
    expect(rewriteConok("CONERR,20,nope", TOKEN)).toBeUndefined();
    expect(rewriteConokIn("WSOK\r\nCONOK,S9,50000,5000,*\r\nSERVNAME,x", TOKEN)).toEqual({
      text: `WSOK\r\nCONOK,${TOKEN},50000,5000,*\r\nSERVNAME,x`,
      originSessionId: "S9",
    });
  });

  it("rewrites only the first line of a stream, split anywhere, and passes the rest untouched", async () => {
    const rest = "SERVNAME,Lightstreamer\r\nCLIENTIP,127.0.0.1\r\nU,1,1,1|2|é\r\n";
    const { body, originSessionId } = await rewriteFirstLine(streamOf(["CON", "OK,Sx,50000,5", "000,*\r\nSERV", rest.slice(4)]), TOKEN);
    expect(originSessionId).toBe("Sx");
    expect(await new Response(body).text()).toBe(`CONOK,${TOKEN},50000,5000,*\r\n${rest}`);
  });

  it("splits a stream after its rewritten first line, leaving the rest unread for a native pipe", async () => {
    const source = streamOf(["CONOK,Sx,50000,5000,*\r\nSERV", "NAME,L\r\n", "U,1,1,a\r\n"]);
    const { head, rest, originSessionId } = await splitFirstLine(source, TOKEN);
    expect(originSessionId).toBe("Sx");
    expect(new TextDecoder().decode(head)).toBe(`CONOK,${TOKEN},50000,5000,*\r\nSERV`);
    expect(rest).toBe(source);
    let after = "";
    for await (const chunk of rest ?? []) after += new TextDecoder().decode(chunk);
    expect(after).toBe("NAME,L\r\nU,1,1,a\r\n");
    // A stream that ended before its first line did has no rest: the head is all of it.
    const short = await splitFirstLine(streamOf(["CONERR,", "4,bad"]), TOKEN);
    expect(short.rest).toBeNull();
    expect(new TextDecoder().decode(short.head)).toBe("CONERR,4,bad");
  });

  it("finds and swaps LS_session in query strings, bodies and messages", () => {
    expect(findSession("LS_protocol=TLCP-2.5.0&LS_session=Sabc")).toBe("Sabc");
    expect(findSession("LS_polling=true\r\nLS_session=a.b.c&LS_x=1")).toBe("a.b.c");
    expect(findSession("LS_op=add")).toBeUndefined();
    expect(replaceSession("bind_session\r\nLS_session=a.b.c&LS_keepalive_millis=5000", "S1")).toBe(
      "bind_session\r\nLS_session=S1&LS_keepalive_millis=5000",
    );
    // A parameter that merely ends in "LS_session" is left alone.
    expect(replaceSession("XLS_session=1&LS_session=t", "S1")).toBe("XLS_session=1&LS_session=S1");
  });

  it("lists request ids in order", () => {
    expect(requestIds("LS_reqId=3&LS_op=add\r\nLS_reqId=4&LS_op=delete\r\n\r\n")).toEqual(["3", "4"]);
  });
});

describe("TLCP adapter", () => {
  const url = (path: string) => new URL(`https://push.example.com/lightstreamer/${path}`);

  it("classifies create as S and the rest as CR by LS_session (query first, then body)", async () => {
    expect(adapterFor(url("create_session.txt")).name).toBe("tlcp");
    expect(await tlcpAdapter.classify(new Request(url("create_session.txt"), { method: "POST", body: "LS_cid=x" }), url("create_session.txt"))).toMatchObject({ kind: "S" });
    const bind = url("bind_session.txt?LS_protocol=TLCP-2.5.0");
    // A bind long-polls (LS_polling=true) or streams: long-lived either way (the edge fetches
    // it itself in relay mode `edge`), and a poll is told apart.
    expect(await tlcpAdapter.classify(new Request(bind, { method: "POST", body: `LS_session=${TOKEN}&LS_polling=true` }), bind)).toMatchObject({
      kind: "CR",
      token: TOKEN,
      longLived: "poll",
    });
    expect(await tlcpAdapter.classify(new Request(bind, { method: "POST", body: `LS_session=${TOKEN}&LS_content_length=50000` }), bind)).toMatchObject({
      kind: "CR",
      longLived: "stream",
    });
    const control = url(`control.txt?LS_protocol=TLCP-2.5.0&LS_session=${TOKEN}`);
    const controlled = await tlcpAdapter.classify(new Request(control, { method: "POST", body: "LS_reqId=1&LS_op=add" }), control);
    expect(controlled).toMatchObject({ kind: "CR", token: TOKEN });
    expect(controlled).not.toHaveProperty("longLived");
    const ws = url("").toString().replace(/\/$/, "");
    expect(await tlcpAdapter.classify(new Request(ws, { headers: { upgrade: "websocket" } }), new URL(ws))).toEqual({ kind: "first-message" });
  });

  it("answers control failures with one REQERR per request line, in order", async () => {
    const control = url(`control.txt?LS_session=${TOKEN}`);
    const c = await tlcpAdapter.classify(new Request(control, { method: "POST", body: "LS_reqId=7&LS_op=add\r\nLS_reqId=8&LS_op=delete" }), control);
    if (c.kind !== "CR" || c.failure === undefined) throw new Error("expected CR with a failure");
    const res = c.failure(401, "token_invalid", "bad token");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("REQERR,7,20,bad token\r\nREQERR,8,20,bad token\r\n");
  });

  it("answers session failures with CONERR on HTTP 200", async () => {
    const res = tlcpAdapter.failure(404, "session_not_found", "gone, start again");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("CONERR,20,gone%2C start again\r\n");
  });

  it("reads the WebSocket opening: wsok, create_session, bind_session", () => {
    const classify = tlcpAdapter.classifyMessage;
    if (classify === undefined) throw new Error("classifyMessage missing");
    expect(classify("wsok")).toEqual({ kind: "reply", reply: "WSOK\r\n" });
    expect(classify("create_session\r\nLS_cid=x&LS_adapter_set=DEMO")).toEqual({ kind: "S" });
    expect(classify(`bind_session\r\nLS_session=${TOKEN}&LS_keepalive_millis=5000`)).toEqual({ kind: "CR", token: TOKEN });
    expect(classify("hello")).toMatchObject({ kind: "refuse" });
  });
});
