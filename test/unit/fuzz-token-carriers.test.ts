/**
 * Properties of token extraction from every carrier: the `X-Affinity-Token` header, the
 * `affinity` query parameter, the `pe_affinity` cookie (protocols/token-carriers.ts), and
 * the protocols' own session ids — TLCP `LS_session` (protocols/tlcp/params.ts) and the
 * Engine.IO `sid` query parameter. For any request: extraction never throws, finds the
 * token wherever it was put with the documented precedence, and stripping the carriers
 * leaves no token behind and everything else as it was.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { engineIoAdapter } from "../../protocols/engine-io.ts";
import { findSession, replaceSession } from "../../protocols/tlcp/params.ts";
import { TOKEN_COOKIE, findCarriedToken, readCookie, stripCarriers } from "../../protocols/token-carriers.ts";
import { fuzzParams } from "./support/fuzz.ts";

/** What a token looks like on the wire: a compact JWS (base64url parts joined by dots). */
const token = fc.stringMatching(/^[A-Za-z0-9_-]{1,40}\.[A-Za-z0-9_-]{1,60}\.[A-Za-z0-9_-]{1,43}$/);
/** Cookie names and values as browsers send them (RFC 6265 token / cookie-octet). */
const cookieName = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/).filter((n) => n !== TOKEN_COOKIE);
const cookieValue = fc.stringMatching(/^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]{0,20}$/);
const otherCookies = fc.array(fc.tuple(cookieName, cookieValue), { maxLength: 6 });
const paramName = fc.stringMatching(/^[A-Za-z0-9_]{1,10}$/).filter((n) => n !== "affinity");
const params = fc.array(fc.tuple(paramName, fc.string({ maxLength: 16 })), { maxLength: 5 });

function cookieHeader(pairs: ReadonlyArray<readonly [string, string]>): string {
  return pairs.map(([n, v]) => `${n}=${v}`).join("; ");
}

describe("token carriers: header, query, cookie", () => {
  it("readCookie never throws on any header and finds the affinity cookie among others", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (header) => {
        const value = readCookie(header, TOKEN_COOKIE);
        if (value !== undefined) expect(value).not.toContain(";");
      }),
      fuzzParams(5_000),
    );
    fc.assert(
      fc.property(otherCookies, token, fc.nat(), (others, t, at) => {
        const pairs: Array<readonly [string, string]> = [...others];
        pairs.splice(at % (pairs.length + 1), 0, [TOKEN_COOKIE, t]);
        expect(readCookie(cookieHeader(pairs), TOKEN_COOKIE)).toBe(t);
      }),
      fuzzParams(3_000),
    );
  });

  it("finds the token by precedence header > query > cookie, wherever it was put", () => {
    fc.assert(
      fc.property(
        fc.option(token, { nil: undefined }),
        fc.option(token, { nil: undefined }),
        fc.option(token, { nil: undefined }),
        otherCookies,
        params,
        (inHeader, inQuery, inCookie, others, query) => {
          const url = new URL("https://push.example.com/session/x");
          for (const [n, v] of query) url.searchParams.append(n, v);
          if (inQuery !== undefined) url.searchParams.set("affinity", inQuery);
          const headers = new Headers();
          if (inHeader !== undefined) headers.set("x-affinity-token", inHeader);
          const cookies = inCookie === undefined ? others : [...others, [TOKEN_COOKIE, inCookie] as const];
          if (cookies.length > 0) headers.set("cookie", cookieHeader(cookies));
          const found = findCarriedToken(new Request(url, { headers }), url);
          const expected =
            inHeader !== undefined
              ? { token: inHeader, carrier: "header" }
              : inQuery !== undefined
                ? { token: inQuery, carrier: "query" }
                : inCookie !== undefined
                  ? { token: inCookie, carrier: "cookie" }
                  : undefined;
          expect(found).toEqual(expected);
        },
      ),
      fuzzParams(3_000),
    );
  });

  it("stripping leaves no token behind, and every other cookie and parameter as it was", () => {
    fc.assert(
      fc.property(token, otherCookies, params, fc.boolean(), (t, others, query, cookieFirst) => {
        const url = new URL("https://push.example.com/p");
        for (const [n, v] of query) url.searchParams.append(n, v);
        url.searchParams.append("affinity", t);
        const cookies = cookieFirst ? [[TOKEN_COOKIE, t] as const, ...others] : [...others, [TOKEN_COOKIE, t] as const];
        const headers = new Headers({ "x-affinity-token": t, cookie: cookieHeader(cookies) });
        stripCarriers(headers, url);
        expect(findCarriedToken(new Request(url, { headers }), url)).toBeUndefined();
        expect([...url.searchParams]).toEqual(query);
        const kept = headers.get("cookie");
        expect(kept === null ? [] : kept.split(";").map((p) => p.trim())).toEqual(others.map(([n, v]) => `${n}=${v}`));
      }),
      fuzzParams(3_000),
    );
  });

  it("never throws on arbitrary header values and URLs", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 100 }), fc.string({ maxLength: 100 }), fc.string({ maxLength: 100 }), (h, q, c) => {
        const url = new URL(`https://e.example/?affinity=${encodeURIComponent(q)}`);
        const headers = new Headers();
        // Header values must be ByteStrings without CR/LF/NUL; keep what a client could send.
        const clean = (s: string): string => s.replace(/[^\x20-\x7e\t]/g, "");
        headers.set("x-affinity-token", clean(h));
        headers.set("cookie", clean(c));
        const found = findCarriedToken(new Request(url, { headers }), url);
        if (found !== undefined) expect(found.token.length).toBeGreaterThan(0);
        stripCarriers(headers, url);
        expect(findCarriedToken(new Request(url, { headers }), url)?.carrier).not.toBe("header");
      }),
      fuzzParams(3_000),
    );
  });
});

describe("protocol session ids as carriers", () => {
  const lsParam = fc.tuple(fc.stringMatching(/^LS_[a-z_]{1,10}$/).filter((n) => n !== "LS_session"), fc.string({ maxLength: 12 }));

  it("TLCP: LS_session is found wherever it sits in a request, and replaced without touching the rest", () => {
    fc.assert(
      fc.property(fc.array(lsParam, { maxLength: 6 }), fc.string({ unit: "binary", maxLength: 40 }), token, fc.nat(), (others, session, replacement, at) => {
        const pairs = others.map(([n, v]) => `${n}=${encodeURIComponent(v)}`);
        pairs.splice(at % (pairs.length + 1), 0, `LS_session=${encodeURIComponent(session)}`);
        const text = pairs.join("&");
        expect(findSession(text)).toBe(session);
        const replaced = replaceSession(text, replacement);
        expect(findSession(replaced)).toBe(replacement);
        expect(replaced.split("&").filter((p) => !p.startsWith("LS_session="))).toEqual(pairs.filter((p) => !p.startsWith("LS_session=")));
      }),
      fuzzParams(3_000),
    );
  });

  it("TLCP: findSession and replaceSession never throw on arbitrary text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), fc.string({ maxLength: 30 }), (text, session) => {
        const found = findSession(text);
        const replaced = replaceSession(text, session);
        if (found !== undefined) expect(findSession(replaced)).toBe(session);
        else expect(replaced).toBe(text);
      }),
      fuzzParams(5_000),
    );
  });

  it("Engine.IO: a non-empty sid is the token (CR), none or empty is S; never throws", () => {
    fc.assert(
      fc.property(fc.option(fc.string({ unit: "binary", maxLength: 60 }), { nil: undefined }), fc.string({ maxLength: 30 }), (sid, extra) => {
        const url = new URL("https://e.example/socket.io/?EIO=4&transport=polling");
        url.searchParams.set("t", extra);
        if (sid !== undefined) url.searchParams.set("sid", sid);
        const parsedSid = url.searchParams.get("sid");
        const c = engineIoAdapter.classify(new Request(url), url);
        if (parsedSid === null || parsedSid === "") expect(c).toEqual({ kind: "S" });
        else expect(c).toEqual({ kind: "CR", token: parsedSid, carrier: "engine.io-sid", longLived: "poll" });
      }),
      fuzzParams(3_000),
    );
  });
});
