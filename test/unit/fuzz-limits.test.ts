/**
 * Properties of the input limits (config/limits.ts): the WebSocket message check
 * agrees with a real UTF-8 encoder on every string (lone surrogates included) without
 * encoding; the streaming body limit passes exactly the bytes of a body within the limit
 * and errors — having passed no more than the limit — on one over it; settings either
 * resolve to valid limits or fail naming the field.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../config/config-error.ts";
import { boundRelayBody } from "../../relay/body-limit.ts";
import { DEFAULT_LIMITS, messageTooBig, resolveLimits, utf8Length, type Limits } from "../../config/limits.ts";
import { fuzzParams } from "./support/fuzz.ts";

const encoder = new TextEncoder();
/** Any UTF-16 string, lone surrogates included (which encoders write as U+FFFD). */
const utf16 = (maxLength: number) =>
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u)), maxLength });
const anyText = (maxLength: number) => fc.oneof(fc.string({ unit: "binary", maxLength }), utf16(maxLength));

describe("WebSocket message size, measured without encoding", () => {
  it("utf8Length equals the encoder's length for any string", () => {
    fc.assert(
      fc.property(anyText(200), (text) => {
        expect(utf8Length(text)).toBe(encoder.encode(text).length);
      }),
      fuzzParams(5_000),
    );
  });

  it("messageTooBig agrees with the encoded size at every limit, text and binary", () => {
    fc.assert(
      fc.property(anyText(120), fc.nat({ max: 400 }), (text, max) => {
        const size = encoder.encode(text).length;
        expect(messageTooBig(text, max)).toBe(size > max);
        expect(messageTooBig(encoder.encode(text), max)).toBe(size > max);
      }),
      fuzzParams(5_000),
    );
  });
});

/**
 * Reads a counted body until it ends or its origin request is aborted. An aborted body
 * never ends (the origin must see a cut, not an end), so the abort is raced.
 */
async function drain(stream: ReadableStream<Uint8Array>, signal: AbortSignal | undefined): Promise<{ bytes: number[]; ended: boolean }> {
  const reader = stream.getReader();
  const bytes: number[] = [];
  const aborted = new Promise<"aborted">((resolve) => {
    if (signal?.aborted === true) resolve("aborted");
    signal?.addEventListener("abort", () => resolve("aborted"));
  });
  for (;;) {
    const next = await Promise.race([reader.read(), aborted]);
    if (next === "aborted") return { bytes, ended: false };
    if (next.done) return { bytes, ended: true };
    bytes.push(...next.value);
  }
}

describe("streamed CR body limit (session object)", () => {
  it("passes a chunked body within the limit unchanged; over it, aborts the origin request having passed at most the limit, and never ends the body", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 12 }), fc.nat({ max: 600 }), async (chunks, max) => {
        const total = chunks.reduce((n, c) => n + c.length, 0);
        const source = new ReadableStream<Uint8Array>({
          start(controller) {
            for (const c of chunks) controller.enqueue(c);
            controller.close();
          },
        });
        const bounded = boundRelayBody(new Request("https://o.example/x", { method: "POST", body: source }), max);
        expect(bounded.request.body).not.toBeNull();
        const { bytes, ended } = await drain(bounded.request.body ?? source, bounded.signal);
        if (total <= max) {
          expect(ended).toBe(true);
          expect(bounded.exceeded()).toBe(false);
          expect(bytes).toEqual(chunks.flatMap((c) => [...c]));
        } else {
          expect(ended).toBe(false);
          expect(bounded.exceeded()).toBe(true);
          expect(bytes.length).toBeLessThanOrEqual(max);
        }
      }),
      fuzzParams(2_000),
    );
  });

  it("leaves a body of declared length alone (the runtime holds it to its length)", () => {
    const request = new Request("https://o.example/x", { method: "POST", body: "abc", headers: { "content-length": "3" } });
    const bounded = boundRelayBody(request, 1);
    expect(bounded.request).toBe(request);
    expect(bounded.signal).toBeUndefined();
  });
});

describe("body-read deadline (issue 16 F9, session object)", () => {
  it("a body that arrives in time passes whole, its declared length kept, nothing aborted", async () => {
    const request = new Request("https://o.example/x", { method: "POST", body: "hello", headers: { "content-length": "5" } });
    const bounded = boundRelayBody(request, 1_000, 5_000);
    const { bytes, ended } = await drain(bounded.request.body ?? new ReadableStream(), bounded.signal);
    expect(ended).toBe(true);
    expect(new TextDecoder().decode(new Uint8Array(bytes))).toBe("hello");
    expect(bounded.request.headers.get("content-length")).toBe("5");
    expect(bounded.timedOut()).toBe(false);
    expect(bounded.signal?.aborted).toBe(false);
  });

  it("a trickled body past the deadline aborts the origin request and never ends", async () => {
    let push: (() => void) | undefined;
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array([0x7b]));
        push = () => controller.enqueue(new Uint8Array([0x20]));
      },
    });
    const trickle = setInterval(() => push?.(), 10);
    try {
      const bounded = boundRelayBody(new Request("https://o.example/x", { method: "POST", body: source }), 1_000, 60);
      const { ended } = await drain(bounded.request.body ?? source, bounded.signal);
      expect(ended).toBe(false);
      expect(bounded.timedOut()).toBe(true);
      expect(bounded.exceeded()).toBe(false);
    } finally {
      clearInterval(trickle);
    }
  });
});

describe("limit settings", () => {
  // Found by the property below: an empty key was named "settings.limits." — no field at all.
  it("regression: names a key that is no identifier in quotes", () => {
    const field = (raw: unknown): string => {
      try {
        resolveLimits(raw, "limits");
      } catch (err) {
        if (err instanceof ConfigError) return err.field;
      }
      return "no error";
    };
    expect(field({ "": 1 })).toBe('limits[""]');
    expect(field({ "url.Bytes": 1 })).toBe('limits["url.Bytes"]');
    expect(field({ urlbytes: 1 })).toBe("limits.urlbytes");
    expect(field({ bodyBytes: 10 })).toBe("limits.bodyBytes");
  });

  const names = Object.keys(DEFAULT_LIMITS) as Array<keyof Limits>;
  const value = fc.oneof(fc.integer({ min: -10, max: 200 * 1024 * 1024 }), fc.double(), fc.string(), fc.constant(null), fc.boolean());
  const raw = fc.oneof(
    fc.dictionary(fc.constantFrom(...names, "typo", "urlbytes"), value, { maxKeys: 6 }),
    fc.anything(),
  );

  it("resolve to integers within bounds, or throw a ConfigError naming a field under settings.limits", () => {
    fc.assert(
      fc.property(raw, (input) => {
        let limits: Limits;
        try {
          limits = resolveLimits(input, "POOLS.pools[0].settings.limits");
        } catch (err) {
          expect(err).toBeInstanceOf(ConfigError);
          expect((err as ConfigError).field).toMatch(/^POOLS\.pools\[0\]\.settings\.limits(\.[A-Za-z_$][\w$]*|\[".*"\])?$/s);
          return;
        }
        for (const name of names) {
          expect(Number.isInteger(limits[name])).toBe(true);
          expect(limits[name]).toBeGreaterThan(0);
          const given = typeof input === "object" && input !== null ? (input as Record<string, unknown>)[name] : undefined;
          expect(limits[name]).toBe(given === undefined ? DEFAULT_LIMITS[name] : given);
        }
      }),
      fuzzParams(3_000),
    );
  });
});
