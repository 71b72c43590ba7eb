/**
 * The edge's own ceiling (MAX_OPEN_RELAYS, issue 12): past that many open relays in an
 * isolate, a new session is refused with 503 and Retry-After — in the protocol's words for
 * TLCP — instead of running the runtime into its memory or open-file limit, where every
 * held session is lost at once. Sessions already held keep working, and a relay that
 * closes makes room again. Both relay modes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningStack } from "../../infra/local/stack.ts";
import { openWebSocket, rejectedUpgrade, type WsClient } from "./support/http-clients.ts";
import { testStack } from "./support/stack.ts";
import { withTimeout } from "./support/wait.ts";

const LIMIT = 4;

for (const relay of ["edge", "object"] as const) {
  describe(`MAX_OPEN_RELAYS in relay mode ${relay}`, () => {
    let stack: RunningStack;
    const held: WsClient[] = [];

    beforeAll(async () => {
      stack = await testStack({ vars: { MAX_OPEN_RELAYS: String(LIMIT) }, poolSettings: { relay, networkBudget: { sessions: 0 } } });
    });
    afterAll(async () => {
      for (const c of held) c.ws.terminate();
      await stack?.close();
    });

    it("refuses a new session with 503 + Retry-After once the isolate holds its limit, and takes one again after a close", async () => {
      const ws = `${stack.edgeUrl.replace(/^http/, "ws")}/ws?interval_ms=0`;
      for (let i = 0; i < LIMIT; i++) {
        const client = await openWebSocket(ws);
        await client.nextJson("hello");
        held.push(client);
      }

      const refused = await rejectedUpgrade(ws);
      expect(refused.status).toBe(503);
      expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0);
      expect(refused.body).toMatchObject({ error: "edge_busy" });
      const post = await fetch(`${stack.edgeUrl}/session`, { method: "POST" });
      expect(post.status).toBe(503);
      expect(await post.json()).toMatchObject({ error: "edge_busy" });
      // TLCP hears it as "new sessions blocked", its own retry-later answer.
      const tlcp = await fetch(`${stack.edgeUrl}/lightstreamer/create_session.txt?LS_protocol=TLCP-2.5.0`, {
        method: "POST",
        body: "LS_cid=mgQkwtwdysogQz2BJ4Ji%20kOj2Bg&LS_adapter_set=DEMO",
      });
      expect((await tlcp.text()).split("\r\n")[0]).toMatch(/^CONERR,10,/);

      // The held sessions still work: an echo goes through.
      const first = held[0];
      if (first === undefined) throw new Error("no held session");
      first.ws.send("still here");
      expect((await first.next("the echo")).data.toString()).toBe("still here");

      // One closes: its relay is counted out, and a new session gets in.
      first.ws.close(1000, "done");
      await first.closed();
      held.shift();
      const again = await withTimeout(
        (async () => {
          for (;;) {
            try {
              return await openWebSocket(ws);
            } catch {
              await new Promise((r) => setTimeout(r, 100));
            }
          }
        })(),
        10_000,
        "a new session after a relay closed",
      );
      held.push(again);
      expect(await again.nextJson("hello")).toMatchObject({ type: "hello" });
    });
  });
}
