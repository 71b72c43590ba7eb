/**
 * Lightstreamer through the edge: the real `lightstreamer-client-node` against three
 * reference origins speaking TLCP, on every transport. The session id the client holds
 * is the edge's token (in CONOK), the control link is `*`, and no cookie is involved.
 */
import { LightstreamerClient } from "lightstreamer-client-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RunningStack } from "../../infra/local/stack.ts";
import { connectClient, type ClientSubscription, type TestClient, type Transport } from "./support/lightstreamer-client.ts";
import { startRoundRobinProxy, type RoundRobinProxy } from "./support/round-robin-proxy.ts";
import { httpJson } from "./support/http-clients.ts";
import { inBatches, testStack } from "./support/stack.ts";
import { openTlcpWebSocket } from "./support/tlcp-raw.ts";

let stack: RunningStack;
const clients: TestClient[] = [];

beforeAll(async () => {
  stack = await testStack({ originCount: 3, originArgs: ["--tlcp-clock-ms", "50", "--tlcp-session-expiry-ms", "5000"] });
});
afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await stack?.close();
});

function connect(url: string, transport: Transport): TestClient {
  const client = connectClient(url, transport, (c) => {
    // Cookie-less by construction: the client may not rely on cookies at all.
    c.connectionOptions.setCookieHandlingRequired(false);
  });
  clients.push(client);
  return client;
}

/** `count` consecutive clock updates, all from one origin; returns that origin. */
async function clockFromOneOrigin(clock: ClientSubscription, count: number): Promise<string> {
  const seqs: number[] = [];
  const origins = new Set<string>();
  for (let i = 0; i < count; i++) {
    const update = await clock.next(`clock update ${i + 1}`);
    seqs.push(Number(update.values.seq));
    origins.add(String(update.values.origin));
  }
  const first = seqs[0] ?? 0;
  expect(seqs).toEqual(seqs.map((_, i) => first + i));
  expect(origins.size).toBe(1);
  return [...origins][0] ?? "";
}

describe("TLCP through the edge, real client", () => {
  const cases: Array<[Transport, string]> = [
    ["WS-STREAMING", "CONNECTED:WS-STREAMING"],
    ["HTTP-STREAMING", "CONNECTED:HTTP-STREAMING"],
    ["HTTP-POLLING", "CONNECTED:HTTP-POLLING"],
    ["WS-POLLING", "CONNECTED:WS-POLLING"],
    ["auto", "CONNECTED:WS-STREAMING"],
  ];
  for (const [transport, connected] of cases) {
    it(`${transport}: ≥ 20 consecutive clock updates from one origin, no cookie`, async () => {
      const client = connect(stack.edgeUrl, transport);
      expect(await client.status(connected)).toBe(connected);
      const clock = client.subscribe("MERGE", ["clock"], ["seq", "ts", "origin"], "no");
      await clock.subscribed();
      const origin = await clockFromOneOrigin(clock, 20);
      expect(["o1", "o2", "o3"]).toContain(origin);
      // The client's session id is the affinity token, not the origin's id.
      expect(client.client.connectionDetails.getSessionId()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(client.serverErrors).toEqual([]);
      expect(LightstreamerClient.getCookies(stack.edgeUrl)).toEqual([]);
    });
  }

  it("hands out CONOK with the token as session id and * as control link, and sets no cookie", async () => {
    const res = await fetch(`${stack.edgeUrl}/lightstreamer/create_session.txt?LS_protocol=TLCP-2.5.0`, {
      method: "POST",
      body: "LS_cid=mgQkwtwdysogQz2BJ4Ji%20kOj2Bg&LS_adapter_set=DEMO&LS_polling=true&LS_polling_millis=0&LS_idle_millis=0",
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("set-cookie")).toBeNull();
    const [conok] = (await res.text()).split("\r\n");
    const fields = conok?.split(",") ?? [];
    expect(fields[0]).toBe("CONOK");
    expect(fields[1]).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(fields[4]).toBe("*");
  });

  it("spreads 30 clients over all three origins", async () => {
    const transports: Transport[] = ["WS-STREAMING", "HTTP-STREAMING", "HTTP-POLLING"];
    const origins = await inBatches(
      Array.from({ length: 30 }, (_, i) => i),
      10,
      async (i) => {
        const transport = transports[i % 3] ?? "WS-STREAMING";
        const client = connect(stack.edgeUrl, transport);
        await client.status("CONNECTED:");
        const clock = client.subscribe("MERGE", ["clock"], ["seq", "ts", "origin"], "no");
        await clock.subscribed();
        const origin = await clockFromOneOrigin(clock, 5).catch((error: unknown) => {
          // Which of the thirty stalled is what a failure needs (the wait names its statuses).
          throw new Error(`client ${i} (${transport}): ${String(error)}`);
        });
        await client.close();
        return origin;
      },
    );
    const counts = new Map<string, number>();
    for (const o of origins) counts.set(o, (counts.get(o) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual(["o1", "o2", "o3"]);
  });

  it("chat messages go to the session's origin and come back to its subscribers", async () => {
    const client = connect(stack.edgeUrl, "HTTP-STREAMING");
    await client.status("CONNECTED:");
    const chat = client.subscribe("DISTINCT", ["chat"], ["message", "origin"], "no");
    await chat.subscribed();
    expect(await client.send("hello through the edge")).toBe("processed");
    const update = await chat.next("the chat echo");
    expect(update.values.message).toBe("hello through the edge");
  });
});

describe("recovery", () => {
  it("sends an HTTP recovery bind of a WebSocket session to the origin that owns it", async () => {
    // A WebSocket session, created on the wire (the edge answers wsok itself).
    const ws = await openTlcpWebSocket(stack.edgeUrl);
    expect(ws.upgradeHeaders["sec-websocket-protocol"]).toBe("TLCP-2.5.0.lightstreamer.com");
    ws.send("wsok");
    expect(await ws.lines.next("WSOK")).toBe("WSOK");
    ws.send("create_session\r\nLS_adapter_set=DEMO&LS_cid=x");
    const conok = await ws.lines.next("CONOK");
    expect(conok).toMatch(/^CONOK,[\w-]+\.[\w-]+\.[\w-]+,\d+,\d+,\*$/);
    const token = conok.split(",")[1] ?? "";
    const sk = (JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as { sk: string }).sk;
    const record = await httpJson(`${stack.edgeUrl}/_edge/admin/sessions/${sk}`, {
      headers: { authorization: `Bearer ${stack.adminToken}` },
    });
    const owner = (record.body as { session: { originId: string } }).session.originId;

    // The client lost its socket and recovers over HTTP, naming the session by its token.
    const recovery = await fetch(`${stack.edgeUrl}/lightstreamer/bind_session.txt?LS_protocol=TLCP-2.5.0`, {
      method: "POST",
      body: `LS_session=${token}&LS_recovery_from=0&LS_polling=true&LS_polling_millis=0&LS_idle_millis=0`,
    });
    expect(recovery.headers.get("x-origin-id")).toBe(owner);
    const lines = (await recovery.text()).split("\r\n");
    expect(lines[0]?.split(",")[1]).toBe(token);
    await ws.close();
  });
});

describe("a tampered session id", () => {
  let meddler: RoundRobinProxy;
  let tampered = 0;
  const requests: string[] = [];
  beforeAll(async () => {
    // In front of the edge: flips one character of the session id in the first bind.
    meddler = await startRoundRobinProxy([stack.edgeUrl], {
      rewriteBody(path, body) {
        requests.push(new URL(path, "http://x").pathname.replace("/lightstreamer/", ""));
        if (tampered > 0 || !path.startsWith("/lightstreamer/bind_session.txt")) return body;
        const text = body.toString();
        const m = /LS_session=([^&\r\n]+)/.exec(text);
        if (m?.[1] === undefined) return body;
        tampered += 1;
        // Flip a character inside the signature, not its last one: the last base64url
        // character of a 32-byte MAC carries padding bits, so changing it may change nothing.
        const at = m[1].length - 10;
        const flipped = m[1].slice(0, at) + (m[1][at] === "A" ? "B" : "A") + m[1].slice(at + 1);
        return Buffer.from(text.replace(m[1], flipped));
      },
    });
  });
  afterAll(async () => {
    await meddler?.close();
  });

  it("gets CONERR, re-creates its session by itself, and receives updates again", async () => {
    const client = connect(meddler.url, "HTTP-STREAMING");
    await client.status("CONNECTED:HTTP-STREAMING", 30_000);
    expect(tampered).toBe(1);
    // The tampered bind was refused (CONERR), so the client started a new session by itself.
    const bind = requests.indexOf("bind_session.txt");
    expect(requests.slice(0, bind + 1).filter((r) => r === "create_session.txt")).toHaveLength(1);
    expect(requests.slice(bind + 1)).toContain("create_session.txt");
    const clock = client.subscribe("MERGE", ["clock"], ["seq", "ts", "origin"], "no");
    await clock.subscribed();
    await clockFromOneOrigin(clock, 20);
  });
});
