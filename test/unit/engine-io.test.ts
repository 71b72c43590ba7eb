import { describe, expect, it } from "vitest";
import { engineIoAdapter, rewriteOpenPacket } from "../../protocols/engine-io.ts";
import { adapterFor } from "../../protocols/registry.ts";

const OPEN = '0{"sid":"origin-sid","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}';

describe("Engine.IO adapter", () => {
  it("owns /socket.io/ and classifies by sid", async () => {
    const url = (q: string) => new URL(`https://h/socket.io/?EIO=4&transport=polling${q}`);
    expect(adapterFor(url("")).name).toBe("engine.io");
    expect(adapterFor(new URL("https://h/other")).name).toBe("generic");
    expect(await engineIoAdapter.classify(new Request(url("")), url(""))).toEqual({ kind: "S" });
    // A polling GET is a long-poll the edge fetches itself in relay mode `edge`; a POST is not.
    expect(await engineIoAdapter.classify(new Request(url("&sid=tok")), url("&sid=tok"))).toEqual({
      kind: "CR",
      token: "tok",
      carrier: "engine.io-sid",
      longLived: "poll",
    });
    expect(await engineIoAdapter.classify(new Request(url("&sid=tok"), { method: "POST", body: "4hi" }), url("&sid=tok"))).toEqual({
      kind: "CR",
      token: "tok",
      carrier: "engine.io-sid",
    });
  });

  it("swaps the sid of an open packet and keeps the rest", () => {
    const out = rewriteOpenPacket(OPEN, "a.b.c");
    expect(out?.originSid).toBe("origin-sid");
    expect(JSON.parse(out?.packet.slice(1) ?? "")).toEqual({ ...JSON.parse(OPEN.slice(1)), sid: "a.b.c" });
    expect(rewriteOpenPacket("2probe", "t")).toBeUndefined();
    expect(rewriteOpenPacket("0{not json", "t")).toBeUndefined();
  });

  it("rewrites the polling handshake body and reports the origin's sid", async () => {
    const origin = new Response(`${OPEN}\u001e40`, { headers: { "content-type": "text/plain", "content-length": "999" } });
    const { response, originSessionId } = await engineIoAdapter.created(origin, "a.b.c");
    expect(originSessionId).toBe("origin-sid");
    const body = await response.text();
    expect(body.startsWith('0{"sid":"a.b.c"')).toBe(true);
    expect(body.endsWith("\u001e40")).toBe(true);
    // Its own length, not the origin's: a complete answer, not a stream to hand on.
    expect(response.headers.get("content-length")).toBe(String(new TextEncoder().encode(body).byteLength));
  });

  it("maps the token back to the origin's sid for the origin", async () => {
    const toOrigin = engineIoAdapter.toOrigin;
    if (toOrigin === undefined) throw new Error("toOrigin missing");
    const req = await toOrigin(new Request("http://o/socket.io/?EIO=4&transport=polling&sid=a.b.c&t=1"), {
      token: "a.b.c",
      originSessionId: "origin-sid",
    });
    expect(new URL(req.url).searchParams.get("sid")).toBe("origin-sid");
    expect(new URL(req.url).searchParams.get("t")).toBe("1");
  });

  it("speaks Engine.IO's error for a session it cannot serve", async () => {
    for (const [status, code] of [
      [401, "token_invalid"],
      [404, "session_not_found"],
      [502, "origin_unreachable"],
    ] as const) {
      const res = engineIoAdapter.failure(status, code, "x");
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ code: 1, message: "Session ID unknown" });
    }
    const full = engineIoAdapter.failure(503, "no_origin_available", "no origin", { "retry-after": "5" });
    expect(full.status).toBe(503);
    expect(full.headers.get("retry-after")).toBe("5");
  });
});
