/**
 * Issue 16 F1, end to end: the injection from the issue, sent as raw bytes to the edge in
 * workerd, against a real reference origin on the `tcp` transport (PROXY v2). workerd
 * hands the header value to JavaScript as U+010D U+010A...; the old head writer narrowed
 * those to CR LF and the origin ran a second, smuggled request. Now the value goes to the
 * origin as the client's own UTF-8 bytes inside one header line: the origin's request log
 * shows exactly the request the client made, for plain HTTP and the WebSocket handshake.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loggedRequests, proxyStack, type ProxyStack } from "./support/edge-proxy.ts";
import { rawExchange, rawJsonBody, rawStatus } from "./support/raw-tcp.ts";

/** The header of the report: CR LF as U+010D U+010A, a Host line, an empty line, a second request. */
const INJECTED = "x\u010d\u010aHost: x\u010d\u010a\u010d\u010aPOST /smuggled-f1 HTTP/1.1\u010d\u010aX-Pad: y";

function requestBytes(head: string): Buffer {
  // The client sends UTF-8 bytes, as a raw attacker would (C4 8D for U+010D).
  return Buffer.from(head, "utf8");
}

describe("tcp transport: no request smuggling through header values (issue 16 F1)", () => {
  let ps: ProxyStack;
  let edgePort: number;

  beforeAll(async () => {
    ps = await proxyStack({ version: 2, auth: true, originArgs: ["--interval-ms", "0"] });
    edgePort = Number(new URL(ps.edgeUrl).port);
  });
  afterAll(async () => {
    await ps?.close();
  });

  it("a tokenless POST with the injected header reaches the origin as one request, nothing smuggled", async () => {
    const before = (await loggedRequests(ps.inspectUrls[0] ?? "")).length;
    const head = `POST /session HTTP/1.1\r\nHost: 127.0.0.1:${edgePort}\r\nContent-Length: 0\r\na-inj: ${INJECTED}\r\nConnection: close\r\n\r\n`;
    const answer = await rawExchange(edgePort, [requestBytes(head)]);
    // The origin took the one request it was sent (the header is opaque data to it).
    expect(rawStatus(answer.response)).toBe(201);
    expect(rawJsonBody(answer.response)).toMatchObject({ origin: "o1" });
    const after = (await loggedRequests(ps.inspectUrls[0] ?? "")).slice(before);
    expect(after.map((e) => `${e.method} ${e.path}`)).toEqual(["POST /session"]);
  });

  it("the WebSocket handshake carries the same header as one request too", async () => {
    const before = (await loggedRequests(ps.inspectUrls[0] ?? "")).length;
    const head =
      `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${edgePort}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\na-inj: ${INJECTED}\r\n\r\n`;
    // A 101 keeps the connection open: read the answer, then give up waiting (bounded).
    const answer = await rawExchange(edgePort, [requestBytes(head)], { waitMs: 2_000 });
    expect(rawStatus(answer.response)).toBe(101);
    const after = (await loggedRequests(ps.inspectUrls[0] ?? "")).slice(before);
    expect(after.map((e) => `${e.method} ${e.path}`)).toEqual(["GET /ws"]);
  });

  it("a control character in a header value is refused with 400 JSON and reaches no origin", async () => {
    const before = (await loggedRequests(ps.inspectUrls[0] ?? "")).length;
    const head = `POST /session HTTP/1.1\r\nHost: 127.0.0.1:${edgePort}\r\nContent-Length: 0\r\nx-ctl: a\x7fb\r\nConnection: close\r\n\r\n`;
    const answer = await rawExchange(edgePort, [requestBytes(head)]);
    expect(rawStatus(answer.response)).toBe(400);
    expect(rawJsonBody(answer.response)).toMatchObject({ error: "bad_request" });
    expect((await loggedRequests(ps.inspectUrls[0] ?? "")).slice(before)).toEqual([]);
  });
});
