/**
 * Client-sent address claims are dropped before a request goes on to an origin
 * (workers/edge/relay/forwarded.ts, F11 of issue 16): the listed names in any spelling of
 * case, and the whole `X-Forwarded-*` family; every other header stays as it was.
 */
import { describe, expect, it } from "vitest";
import { dropAddressClaims } from "../../workers/edge/relay/forwarded.ts";
import { outboundRequest } from "../../workers/edge/relay/session-request.ts";
import { requestHead } from "../../workers/edge/routes/input-limits.ts";

describe("dropAddressClaims", () => {
  it("drops every claim, whatever its case, and the X-Forwarded-* family", () => {
    const headers = new Headers([
      ["X-Real-IP", "203.0.113.9"],
      ["forwarded", "for=203.0.113.9"],
      ["True-Client-IP", "203.0.113.9"],
      ["X-Forwarded-For", "203.0.113.9"],
      ["x-forwarded-anything-new", "1"],
      ["Fastly-Client-IP", "203.0.113.9"],
      ["authorization", "Bearer t"],
      ["x-forwarded", "203.0.113.9"],
      ["x-session", "kept"],
    ]);
    dropAddressClaims(headers);
    expect([...headers.keys()].sort()).toEqual(["authorization", "x-session"]);
    expect(headers.get("x-session")).toBe("kept");
  });

  it("leaves a request without claims untouched", () => {
    const headers = new Headers({ accept: "text/event-stream", "x-affinity-token": "t", "x-forwardedfor": "not in the family" });
    const before = [...headers];
    dropAddressClaims(headers);
    expect([...headers]).toEqual(before);
  });

  it("finds the claims in the head the edge read before, whatever its case", () => {
    const headers = new Headers({ "x-real-ip": "203.0.113.9", "x-forwarded-port": "1", accept: "*/*" });
    dropAddressClaims(headers, [["X-Real-IP", "203.0.113.9"], ["X-Forwarded-Port", "1"], ["Accept", "*/*"]]);
    expect([...headers.keys()]).toEqual(["accept"]);
  });

  it("drops them from the request for the session object, given the request's own head", () => {
    const url = new URL("https://edge.example/session/abc");
    const request = new Request(url, {
      headers: { "X-Real-IP": "203.0.113.9", "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Port": "1", "cf-connecting-ip": "198.51.100.7", "x-session": "kept" },
    });
    const out = outboundRequest(request, url, requestHead(request));
    expect(out.headers.get("x-real-ip")).toBeNull();
    expect(out.headers.get("x-forwarded-port")).toBeNull();
    // The edge's own, in place of the client's.
    expect(out.headers.get("x-forwarded-for")).toBe("198.51.100.7");
    expect(out.headers.get("x-session")).toBe("kept");
  });
});
