/**
 * Issue 16 F4, as properties in workerd: whatever a client writes, the origin is told
 * exactly one session — the one the token names.
 * - TLCP: for any query string and body built from session-naming parameters in every
 *   spelling (`LS_session`, `LS%5Fsession`, `ls_session`, doubly encoded...) naming the
 *   client's token or a victim's id, among ordinary parameters: the edge refuses the
 *   request, or every reading the origin might make of what it is sent (names decoded, `+`
 *   as space or not, first occurrence wins) names only the origin's id of the token's session.
 *   The same for WebSocket messages (clientMessage) and the WebSocket bind (classifyMessage).
 * - Engine.IO: for any `sid`s in any spelling, the request is refused or the origin's query
 *   holds one sid, the session's own.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Classification } from "../../protocols/adapter.ts";
import { engineIoAdapter } from "../../protocols/engine-io.ts";
import { tlcpAdapter } from "../../protocols/tlcp/adapter.ts";
import { fuzzParams } from "./support/fuzz.ts";

const TOKEN = "tok.en-A";
const VICTIM = "victimSessionB";
const ORIGIN_ID = "originSessionA";
const ids = { token: TOKEN, originSessionId: ORIGIN_ID };

const sessionName = fc.constantFrom("LS_session", "LS%5Fsession", "LS%5fsession", "ls_session", "LS_SESSION", "LS%255Fsession", "%4CS_session", "LS_session%20", "LS_sessio%6E");
const otherName = fc.constantFrom("LS_op", "LS_reqId", "LS_polling", "LS_sessionX", "XLS_session", "LS_subId");
const value = fc.constantFrom(TOKEN, VICTIM, encodeURIComponent(TOKEN), "destroy", "1", "", "a+b", "%ZZ");
const pair = fc.tuple(fc.oneof(sessionName, otherName), value).map(([n, v]) => `${n}=${v}`);
const line = fc.array(pair, { minLength: 0, maxLength: 4 }).map((pairs) => pairs.join("&"));
const body = fc.array(line, { minLength: 1, maxLength: 3 }).map((lines) => lines.join("\r\n"));

function decodeOr(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/**
 * The sessions an origin might read in one request line: first occurrence of each name
 * wins, names decoded once or twice, with `+` as a space or not, in any case.
 */
function sessionsReadIn(text: string): string[] {
  const out: string[] = [];
  for (const reqLine of text.split(/\r?\n/)) {
    for (const plus of [false, true]) {
      const seen = new Set<string>();
      for (const raw of reqLine.split("&")) {
        const eq = raw.indexOf("=");
        const rawName = eq < 0 ? raw : raw.slice(0, eq);
        const rawValue = eq < 0 ? "" : raw.slice(eq + 1);
        const once = decodeOr(plus ? rawName.replace(/\+/g, " ") : rawName);
        const names = [rawName, once, once === undefined ? undefined : decodeOr(once)];
        const named = names.some((n) => n !== undefined && n.trim().toLowerCase() === "ls_session");
        if (!named || seen.has("s")) continue;
        seen.add("s");
        out.push(decodeOr(plus ? rawValue.replace(/\+/g, " ") : rawValue) ?? rawValue);
      }
    }
  }
  return out;
}

async function classifyTlcp(path: string, query: string, text: string): Promise<Classification> {
  const url = new URL(`https://edge.test/lightstreamer/${path}.txt?LS_protocol=TLCP-2.5.0&${query}`);
  return tlcpAdapter.classify(new Request(url, { method: "POST", body: text }), url);
}

describe("session isolation (issue 16 F4)", () => {
  it("TLCP over HTTP: refused, or the origin reads only the token's session", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("bind_session", "control", "msg"), line, body, async (path, query, text) => {
        const classification = await classifyTlcp(path, query, text);
        if (classification.kind === "refused") return;
        expect(classification.kind).toBe("CR");
        if (classification.kind !== "CR" || tlcpAdapter.toOrigin === undefined) return;
        // What the session object sends on: the token's session, however the client named it.
        const url = new URL(`https://edge.test/lightstreamer/${path}.txt?LS_protocol=TLCP-2.5.0&${query}`);
        const request = new Request(url, { method: "POST", body: classification.body ?? null });
        const toOrigin = await tlcpAdapter.toOrigin(request, { ...ids, token: classification.token });
        const sent = [new URL(toOrigin.url).search.slice(1), await toOrigin.text()];
        for (const read of sent.flatMap(sessionsReadIn)) expect(read).toBe(ORIGIN_ID);
        // And the session the edge verified is the one a plain reading of the request names.
        const named = [query, text].flatMap(sessionsReadIn);
        if (named.length > 0) expect(new Set(named)).toEqual(new Set([classification.token]));
      }),
      fuzzParams(2_000),
    );
  });

  it("TLCP over WebSocket: a bind naming two sessions is refused; later messages name only the token's session", () => {
    const clientMessage = tlcpAdapter.clientMessage;
    const classifyMessage = tlcpAdapter.classifyMessage;
    if (clientMessage === undefined || classifyMessage === undefined) throw new Error("TLCP adapter lacks its WebSocket hooks");
    fc.assert(
      fc.property(fc.constantFrom("control", "msg", "bind_session", "heartbeat"), body, (verb, text) => {
        for (const read of sessionsReadIn(clientMessage(`${verb}\r\n${text}`, ids))) expect(read).toBe(ORIGIN_ID);
        const opening = classifyMessage(`bind_session\r\n${text.split("\r\n")[0] ?? ""}`);
        if (opening.kind === "CR") {
          const named = sessionsReadIn(text.split("\r\n")[0] ?? "");
          if (named.length > 0) expect(new Set(named)).toEqual(new Set([opening.token]));
        }
      }),
      fuzzParams(2_000),
    );
  });

  it("the issue's bind body is refused, not relayed for the victim", async () => {
    const classification = await classifyTlcp("bind_session", "", `LS%5Fsession=${VICTIM}&LS_session=${TOKEN}`);
    expect(classification.kind).toBe("refused");
    if (classification.kind !== "refused") return;
    expect(await classification.response.text()).toMatch(/^CONERR,65,/);
    const destroy = await classifyTlcp("control", `LS_session=${TOKEN}`, `LS_reqId=1&LS_op=destroy&LS%5Fsession=${VICTIM}`);
    expect(destroy.kind).toBe("refused");
  });

  it("Engine.IO: refused, or the origin gets one sid, the session's own", async () => {
    const sidName = fc.constantFrom("sid", "s%69d", "%73id", "sid", "SID", "si%64");
    const sid = fc.tuple(sidName, fc.constantFrom(TOKEN, VICTIM, "")).map(([n, v]) => `${n}=${v}`);
    const other = fc.constantFrom("EIO=4", "transport=polling", "t=abc", "b64=1");
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(sid, other), { maxLength: 5 }), async (params) => {
        const url = new URL(`https://edge.test/socket.io/?${params.join("&")}`);
        const classification = await engineIoAdapter.classify(new Request(url), url);
        if (classification.kind !== "CR" || engineIoAdapter.toOrigin === undefined) return;
        const toOrigin = await engineIoAdapter.toOrigin(new Request(url), { ...ids, token: classification.token });
        expect(new URL(toOrigin.url).searchParams.getAll("sid")).toEqual([ORIGIN_ID]);
        expect(url.searchParams.getAll("sid")).toEqual([classification.token]);
      }),
      fuzzParams(2_000),
    );
  });
});
