/**
 * Properties of the edge's Engine.IO parsing: the open packet (`0{...}`) whose sid the edge
 * swaps, alone, as a polling payload's first packet (packets joined by U+001E), and as a
 * WebSocket message. For any input: no exception escapes; an open packet round-trips with
 * every other field intact and the origin's sid reported; everything else passes unchanged.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../../config/limits.ts";
import { engineIoAdapter, rewriteOpenPacket } from "../../protocols/engine-io.ts";
import { fuzzParams } from "./support/fuzz.ts";

const RS = "\u001e";
const sid = fc.string({ unit: "binary", minLength: 1, maxLength: 30 });
const handshake = fc.record({
  sid,
  upgrades: fc.array(fc.constantFrom("websocket", "webtransport"), { maxLength: 2 }),
  pingInterval: fc.nat(),
  pingTimeout: fc.nat(),
  maxPayload: fc.nat(),
});
/** Non-open packets: message, ping, pong, noop, garbage (never starting with "0{"). */
const otherPacket = fc.oneof(
  fc.string({ unit: "binary", maxLength: 50 }).map((s) => `4${s}`),
  fc.constantFrom("2", "3", "6", "2probe", "3probe"),
  fc.string({ unit: "binary", maxLength: 50 }).filter((s) => !s.startsWith("0{")),
).map((p) => p.replaceAll(RS, ""));

describe("Engine.IO open packet", () => {
  it("round-trips: the sid becomes the token, every other field stays, the origin's sid is reported", () => {
    fc.assert(
      fc.property(handshake, fc.dictionary(fc.string({ maxLength: 8 }).filter((k) => k !== "sid" && k !== "__proto__"), fc.jsonValue(), { maxKeys: 3 }), sid, (open, extra, token) => {
        const packet = `0${JSON.stringify({ ...extra, ...open })}`;
        const r = rewriteOpenPacket(packet, token);
        expect(r?.originSid).toBe(open.sid);
        expect(JSON.parse(r?.packet.slice(1) ?? "null")).toEqual({ ...JSON.parse(packet.slice(1)), sid: token });
        expect(r?.packet.startsWith("0{")).toBe(true);
      }),
      fuzzParams(3_000),
    );
  });

  it("never throws on any packet; only a JSON object with a string sid is rewritten", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary", maxLength: 120 }), fc.jsonValue().map((v) => `0${JSON.stringify(v)}`)), sid, (packet, token) => {
        const r = rewriteOpenPacket(packet, token);
        if (r === undefined) return;
        const open = JSON.parse(packet.slice(1)) as { sid: unknown };
        expect(typeof open.sid).toBe("string");
        expect(r.originSid).toBe(open.sid);
      }),
      fuzzParams(5_000),
    );
  });
});

describe("Engine.IO polling payload (created)", () => {
  it("rewrites only the first packet's sid and passes the other packets byte for byte", async () => {
    await fc.assert(
      fc.asyncProperty(handshake, fc.array(otherPacket, { maxLength: 5 }), sid, async (open, rest, token) => {
        const payload = [`0${JSON.stringify(open)}`, ...rest].join(RS);
        const created = await engineIoAdapter.created(new Response(payload, { status: 200 }), token);
        expect(created.originSessionId).toBe(open.sid);
        const packets = (await created.response.text()).split(RS);
        expect(JSON.parse(packets[0]?.slice(1) ?? "null")).toEqual({ ...open, sid: token });
        expect(packets.slice(1)).toEqual(rest);
      }),
      fuzzParams(1_500),
    );
  });

  it("passes any other answer unchanged, never throwing", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(otherPacket, { maxLength: 5 }), fc.constantFrom(200, 400, 503), async (packets, status) => {
        const payload = packets.join(RS);
        const created = await engineIoAdapter.created(new Response(payload, { status }), "tok");
        expect(created.originSessionId).toBeUndefined();
        expect(await created.response.text()).toBe(payload);
      }),
      fuzzParams(1_500),
    );
  });
});

describe("Engine.IO handshake over the protocol-line limit", () => {
  it("passes on byte for byte, unread and unrewritten, however the origin chunks it", async () => {
    await fc.assert(
      fc.asyncProperty(handshake, fc.integer({ min: 1, max: 5_000 }), fc.array(fc.integer({ min: 1, max: 40_000 }), { maxLength: 4 }), async (open, over, cuts) => {
        const payload = new TextEncoder().encode(`0${JSON.stringify(open)}${RS}4${"x".repeat(DEFAULT_LIMITS.protocolLineBytes + over)}`);
        const points = [...new Set([0, ...cuts.map((c) => c % payload.length), payload.length])].sort((a, b) => a - b);
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            for (let i = 0; i + 1 < points.length; i++) controller.enqueue(payload.slice(points[i], points[i + 1]));
            controller.close();
          },
        });
        const created = await engineIoAdapter.created(new Response(body, { status: 200 }), "tok");
        expect(created.originSessionId).toBeUndefined();
        expect(new Uint8Array(await created.response.arrayBuffer())).toEqual(payload);
      }),
      fuzzParams(200, 2_000),
    );
  });
});

describe("Engine.IO WebSocket messages (originMessage)", () => {
  it("rewrites an open packet and leaves every other message alone", () => {
    fc.assert(
      fc.property(fc.oneof(handshake.map((h) => ({ open: h, data: `0${JSON.stringify(h)}` })), otherPacket.map((p) => ({ open: undefined, data: p }))), sid, ({ open, data }, token) => {
        const r = engineIoAdapter.originMessage?.(data, { token, originSessionId: null });
        if (open === undefined) expect(r).toBeUndefined();
        else expect(r).toEqual({ data: `0${JSON.stringify({ ...open, sid: token })}`, originSessionId: open.sid });
      }),
      fuzzParams(3_000),
    );
  });
});
