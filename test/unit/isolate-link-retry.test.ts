/**
 * The isolate's control link reconnects when its hub cannot be reached: without the socket
 * no end (drain, expiry, admin end) reaches the legs this isolate pumps, and the client
 * would keep a session the edge has ended. The first two connects fail here (the hub's
 * namespace is wrapped so they throw, as an overloaded or restarting hub does); the third
 * reaches the real hub, and an end sent through the hub then ends the leg.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { EndSignal } from "../../protocols/adapter.ts";
import { hubStub } from "../../durable-objects/hub/stub.ts";
import { isolateLink } from "../../workers/edge/legs/isolate-link.ts";
import { eventually } from "./support/session-harness.ts";
import { hubConnects } from "./support/hub-connects.ts";

describe("isolate link", () => {
  it("retries a failed connect to its hub, so an end still reaches the leg", async () => {
    let attempts = 0;
    const flakyEnv = hubConnects((n, real) => {
      attempts = n;
      return n <= 2 ? Promise.reject(new Error("hub overloaded")) : real();
    });
    const link = isolateLink();
    const sk = crypto.randomUUID();
    const leg = crypto.randomUUID();
    let ended: EndSignal | undefined;
    const closed = link.register(flakyEnv, sk, leg, (signal) => {
      ended = signal;
    });
    try {
      // The hub learns the leg only from the third connect's hello.
      await eventually(async () => ((await hubStub(env, link.id).describe()).legs === 1 ? true : undefined), "the hub to learn the leg");
      expect(attempts).toBe(3);
      const signal: EndSignal = { closeCode: 1012, closeReason: "draining" };
      expect(await hubStub(env, link.id).endLegs(sk, [leg], signal)).toEqual([]);
      expect(await eventually(() => ended, "the end to reach the leg")).toEqual(signal);
    } finally {
      closed();
    }
  });
});
