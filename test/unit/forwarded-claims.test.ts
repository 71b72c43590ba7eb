/**
 * Client-sent address claims are dropped before a request goes on to an origin
 * (workers/edge/relay/forwarded.ts, F11 of issue 16): the listed names in any spelling of
 * case, and the whole `X-Forwarded-*` family; every other header stays as it was.
 */
import { describe, expect, it } from "vitest";
import { dropAddressClaims } from "../../workers/edge/relay/forwarded.ts";

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
});
