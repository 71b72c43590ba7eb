// The real Lightstreamer Node.js client (9.x) against the reference origin directly, on
// each transport it can be forced to and on its own choice: it connects, receives the
// DEMO clock without gaps, exchanges chat messages, and leaves no session behind.

import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startOrigin, type RunningOrigin } from "../../infra/origin/origin.ts";
import { connectClient, type ClientSubscription, type TestClient, type Transport } from "./support/lightstreamer-client.ts";
import { sleep, WAIT_MS } from "./support/wait.ts";

const ORIGIN_ID = "tlcp-client-1";

async function eventually(check: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(25);
  }
}

/** Reads `count` clock updates and checks them: consecutive seq, this origin, a sane ts. */
async function consecutiveClockUpdates(clock: ClientSubscription, count: number): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = 0; i < count; i++) {
    const update = await clock.next(`clock update ${i + 1} of ${count}`);
    expect(update.item).toBe("clock");
    expect(update.values.origin).toBe(ORIGIN_ID);
    expect(Math.abs(Date.now() - Number(update.values.ts))).toBeLessThan(60_000);
    seqs.push(Number(update.values.seq));
  }
  const first = seqs[0] ?? 0;
  expect(seqs).toEqual(seqs.map((_, index) => first + index));
  return seqs;
}

describe("TLCP: the real Lightstreamer client against the origin", () => {
  let origin: RunningOrigin;
  let url: string;
  const clients: TestClient[] = [];

  const connect = (transport: Transport): TestClient => {
    const client = connectClient(url, transport);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    origin = await startOrigin({
      id: ORIGIN_ID,
      listeners: [{ kind: "combined", host: "127.0.0.1", port: 0 }],
      tlcpClockMs: 50,
      // HTTP clients never destroy their session; a short expiry lets each test end clean.
      tlcpSessionExpiryMs: 3_000,
    });
    url = origin.listeners[0]?.url ?? "";
  });
  afterEach(async () => {
    await Promise.allSettled(clients.splice(0).map((client) => client.close()));
  });
  afterAll(async () => {
    await origin.close();
  });

  const cases: Array<{ transport: Transport; connected: string }> = [
    { transport: "WS-STREAMING", connected: "CONNECTED:WS-STREAMING" },
    { transport: "HTTP-STREAMING", connected: "CONNECTED:HTTP-STREAMING" },
    { transport: "HTTP-POLLING", connected: "CONNECTED:HTTP-POLLING" },
    // Later WebSocket polls name no session: they mean the socket's.
    { transport: "WS-POLLING", connected: "CONNECTED:WS-POLLING" },
    // Left to itself, the client prefers WebSocket streaming.
    { transport: "auto", connected: "CONNECTED:WS-STREAMING" },
  ];

  for (const { transport, connected } of cases) {
    it(`${transport}: connects, streams clock without gaps, chats, disconnects cleanly`, async () => {
      const client = connect(transport);
      expect(await client.status(connected)).toBe(connected);

      const clock = client.subscribe("MERGE", ["clock"], ["seq", "ts", "origin"], "yes");
      await clock.subscribed();
      await consecutiveClockUpdates(clock, 25);

      const chat = client.subscribe("DISTINCT", ["chat"], ["message", "origin"], "yes");
      await chat.subscribed();
      const text = `hello over ${transport} ${randomUUID()}`;
      expect(await client.send(text)).toBe("processed");
      const echoed = await chat.next("the chat echo");
      expect(echoed.values).toEqual({ message: text, origin: ORIGIN_ID });

      await client.close();
      expect(client.statuses.at(-1)).toBe("DISCONNECTED");
      expect(client.serverErrors).toEqual([]);
      // WebSocket clients destroy their session; HTTP ones let it expire once unbound.
      await eventually(() => origin.sessionCount() === 0, "the TLCP session to be gone");
    });
  }

  it("a message reaches chat subscribers of other sessions, whatever their transport", async () => {
    const sender = connect("WS-STREAMING");
    const receivers = [connect("HTTP-STREAMING"), connect("HTTP-POLLING")];
    const chats = receivers.map((receiver) => receiver.subscribe("DISTINCT", ["chat"], ["message", "origin"]));
    await Promise.all(chats.map((chat) => chat.subscribed()));
    await sender.status("CONNECTED:WS-STREAMING");

    const text = `to everyone ${randomUUID()}`;
    expect(await sender.send(text)).toBe("processed");
    for (const chat of chats) {
      expect((await chat.next("the message on another session")).values).toEqual({ message: text, origin: ORIGIN_ID });
    }
  });

  it("values with TLCP's special characters arrive exactly as sent", async () => {
    // Empty ($), leading #, $ and ^ (null / empty / compression markers), the field
    // separator |, percent signs, line breaks and non-ASCII: all need escaping or care.
    const texts = ["", "#", "$", "^3", "#not null", "a|b||c", "100%25 and %", "two\r\nlines", "héllo wörld 中文", "same", "same"];
    const sender = connect("HTTP-STREAMING");
    const receiver = connect("WS-STREAMING");
    const chat = receiver.subscribe("RAW", ["chat"], ["message", "origin"]);
    await chat.subscribed();
    await sender.status("CONNECTED:HTTP-STREAMING");
    for (const text of texts) {
      expect(await sender.send(text)).toBe("processed");
      const update = await chat.next(`the echo of ${JSON.stringify(text)}`);
      // The second "same" goes out with both fields unchanged; the client fills them in.
      expect(update.values).toEqual({ message: text, origin: ORIGIN_ID });
    }
  });

  it("a subscription the adapter set cannot serve is refused with its TLCP code", async () => {
    const client = connect("WS-STREAMING");
    const unknownItem = client.subscribe("MERGE", ["no-such-item"], ["seq"]);
    await expect(unknownItem.subscribed()).rejects.toThrow(/subscription error 21/);
    const unknownField = client.subscribe("MERGE", ["clock"], ["nope"]);
    await expect(unknownField.subscribed()).rejects.toThrow(/subscription error 23/);
    // The session is fine afterwards.
    const clock = client.subscribe("MERGE", ["clock"], ["seq", "ts", "origin"]);
    await consecutiveClockUpdates(clock, 3);
  });
});
