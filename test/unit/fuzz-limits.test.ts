/**
 * Properties of the input limits (workers/edge/limits.ts): the WebSocket message check
 * agrees with a real UTF-8 encoder on every string (lone surrogates included) without
 * encoding; the streaming body limit passes exactly the bytes of a body within the limit
 * and errors — having passed no more than the limit — on one over it; settings either
 * resolve to valid limits or fail naming the field.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../workers/edge/config-error.ts";
import { DEFAULT_LIMITS, limitBody, messageTooBig, resolveLimits, utf8Length, type Limits } from "../../workers/edge/limits.ts";
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
        expect(messageTooBig(encoder.encode(text).buffer, max)).toBe(size > max);
      }),
      fuzzParams(5_000),
    );
  });
});

async function drain(stream: ReadableStream<Uint8Array>): Promise<{ bytes: number[]; error: unknown }> {
  const reader = stream.getReader();
  const bytes: number[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { bytes, error: undefined };
      bytes.push(...value);
    }
  } catch (error) {
    return { bytes, error };
  }
}

describe("streaming body limit", () => {
  it("passes a body within the limit unchanged; errors on one over it after at most the limit", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 12 }), fc.nat({ max: 600 }), async (chunks, max) => {
        const total = chunks.reduce((n, c) => n + c.length, 0);
        const source = new ReadableStream<Uint8Array>({
          start(controller) {
            for (const c of chunks) controller.enqueue(c);
            controller.close();
          },
        });
        const limited = limitBody(source, max);
        const { bytes, error } = await drain(limited.body);
        if (total <= max) {
          expect(error).toBeUndefined();
          expect(limited.exceeded()).toBe(false);
          expect(bytes).toEqual(chunks.flatMap((c) => [...c]));
        } else {
          expect(error).toBeInstanceOf(RangeError);
          expect(limited.exceeded()).toBe(true);
          expect(bytes.length).toBeLessThanOrEqual(max);
        }
      }),
      fuzzParams(2_000),
    );
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
