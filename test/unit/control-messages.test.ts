/**
 * The control socket's frames (durable-objects/hub/control-messages.ts): an isolate sends
 * its messages one per frame until its hub says it takes batches, then up to MAX_BATCH per
 * frame; the hub reads either, in order, and ignores what is not a message.
 */
import { describe, expect, it } from "vitest";
import { isolateFrames, MAX_BATCH, parseHubMessage, parseIsolateMessages } from "../../durable-objects/hub/control-messages.ts";

const open = (leg: string) => JSON.stringify({ t: "open", sk: "s", leg });

describe("control socket frames", () => {
  it("reads a single message and a batch alike, in order, dropping what is not a message", () => {
    expect(parseIsolateMessages(open("a"))).toEqual([{ t: "open", sk: "s", leg: "a" }]);
    const batch = `[${open("a")},{"t":"close","leg":"a"},{"t":"open"},42,null,{"t":"hello","legs":[["s","b"],["bad"]]}]`;
    expect(parseIsolateMessages(batch)).toEqual([
      { t: "open", sk: "s", leg: "a" },
      { t: "close", leg: "a" },
      { t: "hello", legs: [["s", "b"]] },
    ]);
    expect(parseIsolateMessages("not json")).toEqual([]);
    expect(parseIsolateMessages('{"t":"end","legs":[]}')).toEqual([]);
  });

  it("frames one message each for a hub that has not said ready, batches of at most MAX_BATCH otherwise", () => {
    const texts = Array.from({ length: MAX_BATCH + 1 }, (_, i) => open(`l${i}`));
    expect(isolateFrames(texts, false)).toEqual(texts);
    const frames = isolateFrames(texts, true);
    expect(frames).toHaveLength(2);
    expect(parseIsolateMessages(frames[0]!).map((m) => (m.t === "open" ? m.leg : ""))).toEqual(
      texts.slice(0, MAX_BATCH).map((_, i) => `l${i}`),
    );
    // A lone message goes as it is, readable by a hub of any version.
    expect(frames[1]).toBe(texts[MAX_BATCH]);
    expect(isolateFrames([], true)).toEqual([]);
  });

  it("reads the hub's ready and end, and nothing else", () => {
    expect(parseHubMessage('{"t":"ready","batches":true}')).toEqual({ t: "ready", batches: true });
    expect(parseHubMessage('{"t":"ready"}')).toBeUndefined();
    const end = { t: "end", legs: ["a", 3, "b"], signal: { closeCode: 1012, closeReason: "drain" } };
    expect(parseHubMessage(JSON.stringify(end))).toEqual({ t: "end", legs: ["a", "b"], signal: { closeCode: 1012, closeReason: "drain" } });
    expect(parseHubMessage('{"t":"end","legs":[],"signal":{"closeCode":"x"}}')).toBeUndefined();
    expect(parseHubMessage("null")).toBeUndefined();
    expect(parseHubMessage("[")).toBeUndefined();
  });
});
