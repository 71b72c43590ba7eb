// Properties of the reference origin's TLCP request parsing (infra/origin/tlcp/request-params.ts):
// for any text, splitting and parsing never throw; parameters a client encodes the way
// clients do (encodeURIComponent) come back exactly, the first occurrence winning; a bad
// escape makes the line invalid (reported, never thrown); typed reads keep their bounds.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { boolParam, intParam, isValidReqId, parseRequestLine, splitRequestLines } from "../../infra/origin/tlcp/request-params.ts";
import { fuzzParams } from "./support/fuzz.ts";

const name = fc.stringMatching(/^LS_[A-Za-z_]{1,12}$/);
const value = fc.string({ unit: "binary", maxLength: 30 });

describe("TLCP request lines (origin)", () => {
  it("parameters round-trip through encodeURIComponent, first occurrence winning", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(name, value), { maxLength: 8 }), (pairs) => {
        const line = pairs.map(([n, v]) => `${encodeURIComponent(n)}=${encodeURIComponent(v)}`).join("&");
        const parsed = parseRequestLine(line);
        expect(parsed.error).toBeUndefined();
        const expected = new Map<string, string>();
        for (const [n, v] of pairs) if (!expected.has(n)) expected.set(n, v);
        expect([...parsed.params]).toEqual([...expected]);
        expect(parsed.reqId).toBe(expected.get("LS_reqId"));
      }),
      fuzzParams(5_000),
    );
  });

  it("never throws on any text; a bad escape is an error on its line, not an exception", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), (text) => {
        for (const line of splitRequestLines(text)) {
          expect(line).not.toBe("");
          expect(line).not.toMatch(/[\n]/);
          const parsed = parseRequestLine(line);
          if (parsed.error !== undefined) expect(parsed.error).toMatch(/^bad percent-encoding in /);
        }
      }),
      fuzzParams(5_000),
    );
    expect(parseRequestLine("LS_reqId=1&LS_op=%E0%A4%A").error).toMatch(/bad percent-encoding/);
  });

  it("splits CRLF and LF lines alike, dropping empty ones", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "binary-ascii", maxLength: 20 }).map((s) => s.replace(/[\r\n]/g, "")), { maxLength: 8 }), fc.constantFrom("\r\n", "\n"), (lines, sep) => {
        expect(splitRequestLines(lines.join(sep))).toEqual(lines.filter((l) => l !== ""));
      }),
      fuzzParams(3_000),
    );
  });

  it("typed reads: integers within bounds, booleans exactly, reqIds that cannot break a line", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), fc.nat({ max: 1000 }), fc.nat({ max: 1000 }), (text, a, b) => {
        const [min, max] = a <= b ? [a, b] : [b, a];
        const params = new Map([["LS_x", text]]);
        const n = intParam(params, "LS_x", { min, max });
        if (n.ok && n.value !== undefined) {
          expect(n.value).toBeGreaterThanOrEqual(min);
          expect(n.value).toBeLessThanOrEqual(max);
          expect(String(n.value)).toBe(String(Number(text)));
        }
        const bool = boolParam(params, "LS_x", false);
        expect(bool.ok).toBe(text === "true" || text === "false");
        if (isValidReqId(text)) expect(text).not.toMatch(/[,\r\n|&=%]/);
      }),
      fuzzParams(5_000),
    );
  });
});
