/**
 * The isolate's control socket belongs to one leg's request; when that leg ends, another
 * live leg opens the next socket — after HANDOVER_DELAY_MS, so that a burst of ends (legs
 * mostly end in the order they opened, and the owner is the oldest) costs one hand-over,
 * not one per end. The hub namespace is wrapped only to count connects; the hub is real.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { EndSignal } from "../../protocols/adapter.ts";
import { hubStub } from "../../durable-objects/hub/stub.ts";
import { isolateLink } from "../../workers/edge/legs/isolate-link.ts";
import { eventually } from "./support/session-harness.ts";
import { hubConnects } from "./support/hub-connects.ts";

describe("isolate link hand-over", () => {
  it("hands the socket over once for a burst of ends, and an end still reaches the leg left", async () => {
    let connects = 0;
    const linkEnv = hubConnects((n, real) => {
      connects = n;
      return real();
    });
    const link = isolateLink();
    const hub = hubStub(env, link.id);
    const sk = crypto.randomUUID();
    const legs = Array.from({ length: 5 }, () => crypto.randomUUID());
    const ended = new Map<string, EndSignal>();
    const closers = legs.map((leg) => link.register(linkEnv, sk, leg, (signal) => ended.set(leg, signal)));
    try {
      await eventually(async () => ((await hub.describe()).legs === 5 ? true : undefined), "the hub to learn every leg");
      expect(connects).toBe(1);

      // The owner (the oldest leg) and the three next oldest end one after another: each
      // next owner would have started connecting before the following end, without the wait.
      for (const close of closers.slice(0, 4)) {
        close();
        await Promise.resolve();
      }
      await eventually(async () => {
        const view = await hub.describe();
        return view.legs === 1 && view.sockets === 1 ? true : undefined;
      }, "the last leg's socket to announce it alone");
      expect(connects).toBe(2);

      const last = legs[4] ?? "";
      const signal: EndSignal = { closeCode: 1012, closeReason: "draining" };
      expect(await hub.endLegs(sk, [last], signal)).toEqual([]);
      expect(await eventually(() => ended.get(last), "the end to reach the last leg")).toEqual(signal);
      expect([...ended.keys()]).toEqual([last]);
    } finally {
      for (const close of closers) close();
    }
  });
});
