/**
 * The WebSocket queue budget in the one pump (relay/queue-budget.ts, issue 16 F5), with
 * scripted ends whose queues grow as they are sent to and drain only when told: a side
 * that stops reading ends the relay with 1013 once its queue is over the budget — or, when
 * the other side can stop reading (the tcp transport's origin), that side is paused until
 * the queue is down to half, and nothing is lost.
 */
import { describe, expect, it } from "vitest";
import { pumpMessages, type EndHandlers, type Message, type MessageEnd } from "../../relay/message-pump.ts";
import { RESUME_POLL_MS } from "../../relay/queue-budget.ts";

const KiB = 1024;
const BUDGET = 64 * KiB;

interface ScriptedEnd extends MessageEnd {
  readonly sent: Message[];
  readonly closes: Array<{ code: number | undefined; reason: string | undefined }>;
  /** Bytes sent and not yet "read" by this end's peer. */
  queued: number;
  /** Delivers a message from this end's peer into the relay. */
  receive(data: Message): void;
  paused: boolean;
}

function scriptedEnd(pausable: boolean): ScriptedEnd {
  let handlers: EndHandlers | undefined;
  const end: ScriptedEnd = {
    sent: [],
    closes: [],
    queued: 0,
    paused: false,
    send(data) {
      end.sent.push(data);
      end.queued += typeof data === "string" ? data.length : data.byteLength;
    },
    queuedBytes: () => end.queued,
    close(code, reason) {
      end.closes.push({ code, reason });
    },
    listen(h) {
      handlers = h;
    },
    receive(data) {
      handlers?.message(data);
    },
    ...(pausable
      ? {
          pause() {
            end.paused = true;
          },
          resume() {
            end.paused = false;
          },
        }
      : {}),
  };
  return end;
}

function relay(origin: ScriptedEnd, client: ScriptedEnd) {
  const closed: Array<{ side: string; code: number; reason: string }> = [];
  pumpMessages(client, origin, { maxQueuedBytes: BUDGET, onClose: (side, code, reason) => closed.push({ side, code, reason }) });
  return closed;
}

const chunk = (): ArrayBuffer => new ArrayBuffer(16 * KiB);

describe("queue budget", () => {
  it("ends the relay with 1013 on both legs once a client that does not read is over the budget", () => {
    const origin = scriptedEnd(false);
    const client = scriptedEnd(false);
    const closed = relay(origin, client);
    // 4 × 16 KiB = the budget exactly: still within.
    for (let i = 0; i < 4; i++) origin.receive(chunk());
    expect(closed).toEqual([]);
    origin.receive(chunk());
    const reason = `client is not reading: over ${BUDGET} bytes queued for it`;
    expect(closed).toEqual([{ side: "client", code: 1013, reason }]);
    expect(client.closes).toEqual([{ code: 1013, reason }]);
    expect(origin.closes).toEqual([{ code: 1013, reason }]);
    // Nothing more is queued for it.
    origin.receive(chunk());
    expect(client.sent).toHaveLength(5);
  });

  it("a client that reads keeps its relay however much passes", () => {
    const origin = scriptedEnd(false);
    const client = scriptedEnd(false);
    const closed = relay(origin, client);
    for (let i = 0; i < 100; i++) {
      origin.receive(chunk());
      client.queued = 0;
    }
    expect(closed).toEqual([]);
    expect(client.sent).toHaveLength(100);
  });

  it("ends the relay the same way when the origin does not read what the client sends", () => {
    const origin = scriptedEnd(false);
    const client = scriptedEnd(false);
    const closed = relay(origin, client);
    for (let i = 0; i < 5; i++) client.receive(chunk());
    expect(closed).toEqual([{ side: "origin", code: 1013, reason: `origin is not reading: over ${BUDGET} bytes queued for it` }]);
  });

  it("pauses an origin that can stop reading instead, and resumes it once the client caught up to half the budget", async () => {
    const origin = scriptedEnd(true);
    const client = scriptedEnd(false);
    const closed = relay(origin, client);
    for (let i = 0; i < 5; i++) origin.receive(chunk());
    expect(origin.paused).toBe(true);
    expect(closed).toEqual([]);
    // The client reads some, but not enough.
    client.queued = BUDGET / 2 + 1;
    await new Promise((r) => setTimeout(r, 3 * RESUME_POLL_MS));
    expect(origin.paused).toBe(true);
    client.queued = BUDGET / 2;
    await new Promise((r) => setTimeout(r, 3 * RESUME_POLL_MS));
    expect(origin.paused).toBe(false);
    expect(closed).toEqual([]);
    expect(client.sent).toHaveLength(5);
  });

  it("no budget, no check: a relay without one never ends on its own", () => {
    const origin = scriptedEnd(false);
    const client = scriptedEnd(false);
    const closed: string[] = [];
    pumpMessages(client, origin, { onClose: (side) => closed.push(side) });
    for (let i = 0; i < 100; i++) origin.receive(chunk());
    expect(closed).toEqual([]);
  });
});
