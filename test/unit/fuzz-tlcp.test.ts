/**
 * Properties of the edge's TLCP parsing: request bodies (read within the limits, split into
 * request ids), parameters and message fields, CONOK rewriting, and WebSocket opening
 * messages. For any input: no exception escapes, a refusal is TLCP's own error line, an
 * accepted body is passed on byte for byte, and rewriting touches only what it must.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, type Limits } from "../../config/limits.ts";
import { tlcpAdapter } from "../../protocols/tlcp/adapter.ts";
import { rewriteConok, rewriteConokIn, rewriteFirstLine } from "../../protocols/tlcp/conok.ts";
import { encodeField, requestIds } from "../../protocols/tlcp/params.ts";
import { longestLine, readTlcpBody } from "../../protocols/tlcp/request-body.ts";
import { fuzzParams } from "./support/fuzz.ts";

const encoder = new TextEncoder();

function streamOf(chunks: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(c);
      controller.close();
    },
  });
}

function cut(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set([0, ...cuts.map((c) => c % (bytes.length + 1)), bytes.length])].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  for (let i = 0; i + 1 < points.length; i++) out.push(bytes.slice(points[i], points[i + 1]));
  return out;
}

/** Request lines as clients send them, and garbage. */
const line = fc.oneof(
  fc.tuple(fc.nat({ max: 9999 }), fc.constantFrom("add", "delete", "reconf")).map(([id, op]) => `LS_reqId=${id}&LS_op=${op}&LS_subId=1`),
  fc.string({ unit: "binary", maxLength: 80 }),
  fc.string({ unit: "binary-ascii", maxLength: 300 }),
);
const body = fc.array(line, { maxLength: 8 }).chain((lines) =>
  fc.constantFrom("\r\n", "\n").map((sep) => encoder.encode(lines.join(sep))),
);

describe("TLCP request bodies", () => {
  it("readTlcpBody: accepts exactly the bodies within both limits, byte for byte, however they arrive", async () => {
    await fc.assert(
      fc.asyncProperty(body, fc.array(fc.nat(), { maxLength: 6 }), fc.integer({ min: 0, max: 700 }), fc.integer({ min: 0, max: 300 }), async (bytes, cuts, bodyBytes, protocolLineBytes) => {
        const limits: Limits = { ...DEFAULT_LIMITS, bodyBytes, protocolLineBytes };
        const request = new Request("https://e.example/lightstreamer/control.txt", { method: "POST", body: streamOf(cut(bytes, cuts)) });
        const read = await readTlcpBody(request, limits);
        const naiveLongest = Math.max(0, ...new TextDecoder("latin1").decode(bytes).split("\n").map((l) => (l.endsWith("\r") ? l.length - 1 : l.length)));
        expect(longestLine(bytes)).toBe(naiveLongest);
        if (bytes.length > bodyBytes) {
          expect(read).toMatchObject({ ok: false, code: "body_too_large" });
        } else if (naiveLongest > protocolLineBytes) {
          expect(read).toMatchObject({ ok: false, code: "line_too_long" });
        } else {
          expect(read.ok).toBe(true);
          if (read.ok) expect(new Uint8Array(read.body)).toEqual(bytes);
        }
      }),
      fuzzParams(2_000),
    );
  });

  it("classify: a control body is CR with one REQERR per request id, or refused with TLCP's ERROR,65", async () => {
    await fc.assert(
      fc.asyncProperty(body, fc.integer({ min: 0, max: 400 }), async (bytes, protocolLineBytes) => {
        const url = new URL("https://e.example/lightstreamer/control.txt");
        const limits: Limits = { ...DEFAULT_LIMITS, protocolLineBytes };
        const c = await tlcpAdapter.classify(new Request(url, { method: "POST", body: bytes }), url, limits);
        if (c.kind === "refused") {
          expect(longestLine(bytes)).toBeGreaterThan(protocolLineBytes);
          expect(await c.response.text()).toMatch(/^ERROR,65,[^\r\n]*\r\n$/);
          return;
        }
        expect(c.kind).toBe("CR");
        if (c.kind !== "CR") return;
        const ids = requestIds(new TextDecoder().decode(bytes));
        const failure = c.failure ?? tlcpAdapter.failure;
        const text = await failure(404, "session_not_found", "gone, start again").text();
        const lines = text.split("\r\n").slice(0, -1);
        expect(lines).toHaveLength(ids.length);
        lines.forEach((l, i) => expect(l.startsWith(`REQERR,${ids[i]},20,`)).toBe(true));
      }),
      fuzzParams(1_500),
    );
  });

  it("requestIds: one id per line that has LS_reqId, in order; never throws", () => {
    fc.assert(
      fc.property(fc.array(fc.option(fc.nat(), { nil: undefined }), { maxLength: 10 }), fc.string({ unit: "binary", maxLength: 100 }), (ids, noise) => {
        const lines = ids.map((id) => (id === undefined ? "LS_op=add" : `LS_op=add&LS_reqId=${id}`));
        expect(requestIds(lines.join("\r\n"))).toEqual(ids.filter((id) => id !== undefined).map(String));
        expect(Array.isArray(requestIds(noise))).toBe(true);
      }),
      fuzzParams(3_000),
    );
  });
});

describe("TLCP fields and CONOK", () => {
  it("encodeField leaves no separator or line break, and percent-decoding restores the text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 100 }), (text) => {
        const field = encodeField(text);
        expect(field).not.toMatch(/[,\r\n|]/);
        expect(field.replace(/%([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)))).toBe(text);
      }),
      fuzzParams(5_000),
    );
  });

  const sessionId = fc.stringMatching(/^[A-Za-z0-9_.-]{1,40}$/);
  const conok = fc
    .tuple(sessionId, fc.nat(), fc.nat(), fc.oneof(fc.constant("*"), fc.domain()))
    .map(([id, limit, keepAlive, link]) => ({ id, line: `CONOK,${id},${limit},${keepAlive},${link}` }));

  it("rewriteConok swaps the session id and control link only, and reports the origin's id", () => {
    fc.assert(
      fc.property(conok, sessionId, (c, token) => {
        const r = rewriteConok(c.line, token);
        expect(r?.originSessionId).toBe(c.id);
        const [, , limit, keepAlive] = c.line.split(",");
        expect(r?.line).toBe(`CONOK,${token},${limit},${keepAlive},*`);
      }),
      fuzzParams(3_000),
    );
  });

  it("rewriteConokIn never throws; it rewrites one CONOK in a message and leaves the other lines", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "binary", maxLength: 40 }).filter((l) => !l.includes("\r\n") && !l.startsWith("CONOK,")), { maxLength: 5 }), fc.option(conok, { nil: undefined }), fc.nat(), sessionId, (others, c, at, token) => {
        const lines = [...others];
        if (c !== undefined) lines.splice(at % (lines.length + 1), 0, c.line);
        const r = rewriteConokIn(lines.join("\r\n"), token);
        if (c === undefined) {
          expect(r).toBeUndefined();
          return;
        }
        expect(r?.originSessionId).toBe(c.id);
        const out = r?.text.split("\r\n") ?? [];
        expect(out.filter((l) => !l.startsWith("CONOK,"))).toEqual(others);
      }),
      fuzzParams(3_000),
    );
  });

  it("rewriteFirstLine passes any stream through byte for byte except a leading CONOK", async () => {
    await fc.assert(
      fc.asyncProperty(fc.option(conok, { nil: undefined }), fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(), { maxLength: 5 }), sessionId, async (c, rest, cuts, token) => {
        const head = c === undefined ? new Uint8Array(0) : encoder.encode(`${c.line}\r\n`);
        const all = new Uint8Array([...head, ...rest]);
        const { body, originSessionId } = await rewriteFirstLine(streamOf(cut(all, cuts)), token);
        const out = new Uint8Array(await new Response(body).arrayBuffer());
        if (c !== undefined) {
          expect(originSessionId).toBe(c.id);
          const expected = encoder.encode(`${rewriteConok(c.line, token)?.line}\r\n`);
          expect(out).toEqual(new Uint8Array([...expected, ...rest]));
        } else {
          // Without a CONOK first, the bytes pass unchanged (random bytes rarely form one).
          const firstLine = new TextDecoder().decode(all).split("\r\n")[0] ?? "";
          if (rewriteConok(firstLine, token) === undefined) expect(out).toEqual(all);
        }
      }),
      fuzzParams(1_500),
    );
  });
});

describe("TLCP WebSocket opening messages", () => {
  it("classifyMessage never throws and answers only with TLCP lines", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary", maxLength: 200 }), fc.constantFrom("wsok", "create_session\r\nLS_cid=x", "bind_session\r\nLS_session=abc")), (data) => {
        const m = tlcpAdapter.classifyMessage?.(data);
        expect(["reply", "S", "CR", "refuse"]).toContain(m?.kind);
        if (m?.kind === "refuse") expect(m.reply).toMatch(/^CONERR,\d+,[^\r\n]*\r\n$/);
        if (m?.kind === "CR") expect(typeof m.token).toBe("string");
      }),
      fuzzParams(5_000),
    );
  });
});
