import { describe, expect, it } from "vitest";
import { genericAdapter } from "../../protocols/generic.ts";
import { adapterFor } from "../../protocols/registry.ts";
import { outboundRequest } from "../../workers/edge/relay/session-request.ts";

function classify(path: string, headers: Record<string, string> = {}, method = "GET") {
  const url = new URL(`https://push.example.com${path}`);
  const request = new Request(url, { headers, method });
  return adapterFor(url).classify(request, url);
}

describe("generic classification", () => {
  it("is S without a token for the default session-opening requests: POST /session and WebSocket upgrades", async () => {
    expect(await classify("/session", {}, "POST")).toEqual({ kind: "S" });
    expect(await classify("/ws", { upgrade: "websocket" })).toEqual({ kind: "S" });
    expect(await classify("/any/path", { upgrade: "websocket" })).toEqual({ kind: "S" });
  });

  it("opens no session for other tokenless requests (test/unit/session-start.test.ts has the rules)", async () => {
    expect(await classify("/x", { cookie: "other=1; theme=dark" })).toEqual({ kind: "no-session" });
    expect(await classify("/session")).toEqual({ kind: "no-session" });
  });

  it("is CR with a token in the header, query or cookie", async () => {
    expect(await classify("/s/1/stream", { "x-affinity-token": "tok-h" })).toEqual({ kind: "CR", token: "tok-h", carrier: "header" });
    expect(await classify("/s/1/stream?affinity=tok-q")).toEqual({ kind: "CR", token: "tok-q", carrier: "query" });
    expect(await classify("/s/1/ws", { upgrade: "websocket", cookie: "a=1; pe_affinity=tok-c" })).toEqual({
      kind: "CR",
      token: "tok-c",
      carrier: "cookie",
    });
  });

  it("marks an SSE request long-lived (fetched by the edge itself in relay mode edge), and nothing else", async () => {
    const sse = { "x-affinity-token": "t", accept: "text/event-stream" };
    expect(await classify("/s/1/stream", sse)).toEqual({ kind: "CR", token: "t", carrier: "header", longLived: "stream" });
    expect(await classify("/s/1/stream", sse, "POST")).not.toHaveProperty("longLived");
    expect(await classify("/s/1/stream", { "x-affinity-token": "t", accept: "application/json" })).not.toHaveProperty("longLived");
    expect(await classify("/s/1/ws", { ...sse, upgrade: "websocket" })).not.toHaveProperty("longLived");
  });

  it("prefers an explicit header or query token over the cookie", async () => {
    expect(await classify("/x?affinity=q", { cookie: "pe_affinity=c" })).toMatchObject({ token: "q" });
    expect(await classify("/x?affinity=q", { "x-affinity-token": "h", cookie: "pe_affinity=c" })).toMatchObject({ token: "h" });
  });

  it("is owned by the generic adapter for any path", () => {
    expect(adapterFor(new URL("https://h/anything/at/all")).name).toBe(genericAdapter.name);
  });
});

describe("request for the origin", () => {
  it("strips every token carrier, the announce flag and client-claimed addresses", () => {
    const url = new URL("https://push.example.com/s/1?affinity=tok&announce_affinity=1&keep=yes");
    const request = new Request(url, {
      headers: {
        "x-affinity-token": "tok",
        cookie: "pe_affinity=tok; other=1",
        "x-forwarded-for": "6.6.6.6",
        forwarded: "for=6.6.6.6",
        "x-real-ip": "6.6.6.6",
        "cf-connecting-ip": "203.0.113.7",
        "x-push-edge-route": '{"op":"relay"}',
      },
    });
    const out = outboundRequest(request, url);
    expect(out.url.search).toBe("?keep=yes");
    expect(out.announce).toBe(true);
    expect(out.headers.get("x-affinity-token")).toBeNull();
    expect(out.headers.get("cookie")).toBe("other=1");
    expect(out.headers.get("x-push-edge-route")).toBeNull();
    expect(out.headers.get("x-real-ip")).toBeNull();
    expect(out.headers.get("x-forwarded-for")).toBe("203.0.113.7");
    expect(out.headers.get("x-forwarded-proto")).toBe("https");
    expect(out.headers.get("forwarded")).toBe('for=203.0.113.7;proto=https;host="push.example.com"');
  });

  it("brackets and quotes IPv6 in Forwarded", () => {
    const url = new URL("http://push.example.com/");
    const out = outboundRequest(new Request(url, { headers: { "cf-connecting-ip": "2001:db8::1" } }), url);
    expect(out.headers.get("forwarded")).toBe('for="[2001:db8::1]";proto=http;host="push.example.com"');
  });
});
