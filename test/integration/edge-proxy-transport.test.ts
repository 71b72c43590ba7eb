/**
 * The `tcp` origin transport end to end: reference origins whose only session listener
 * *requires* a PROXY header (v2 signed with the auth TLV, and v1), the edge in workerd,
 * clients connecting from 127.0.0.5. HTTP (S and CR), HTTP streaming and WebSockets all
 * work, and the origin attributes every request to the address the edge saw — never to
 * what the client claims in X-Forwarded-For, and not to its TCP peer (the edge, 127.0.0.1).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AUTH_KID,
  CLIENT_ADDRESS,
  fromClient,
  loggedRequests,
  proxyStack,
  sessionKeyOf,
  sseFromClient,
  wsFromClient,
  type ProxyStack,
} from "./support/edge-proxy.ts";
import { sleep } from "./support/wait.ts";

const CLAIMS = { "x-forwarded-for": "6.6.6.6", forwarded: "for=6.6.6.6", "x-real-ip": "6.6.6.6" };

const CONFIGS = [
  { name: "PROXY v2 with the auth TLV", version: 2, auth: true },
  { name: "PROXY v1", version: 1, auth: false },
] as const;

describe.each(CONFIGS)("tcp transport, $name, origin requires PROXY", ({ version, auth }) => {
  let ps: ProxyStack;
  const ws = (path: string) => `${ps.edgeUrl.replace(/^http/, "ws")}${path}`;

  beforeAll(async () => {
    // The origin pings every second and drops a peer that misses a whole period: a
    // WebSocket stays open only if the edge answers the pings.
    ps = await proxyStack({ version, auth, originArgs: ["--interval-ms", "0", "--ping-interval-ms", "1000"] });
  });
  afterAll(async () => {
    await ps?.close();
  });

  async function createSession(): Promise<{ id: string; token: string; client: unknown }> {
    const res = await fromClient(`${ps.edgeUrl}/session`, { method: "POST", headers: CLAIMS });
    expect(res.status).toBe(201);
    const body = res.body as { id: string; client: string };
    return { id: body.id, token: String(res.headers["x-affinity-token"]), client: body.client };
  }

  it("S: the origin reports the address the edge saw, through the PROXY header", async () => {
    const session = await createSession();
    expect(session.client).toBe(CLIENT_ADDRESS);
    const entry = (await loggedRequests(ps.inspectUrls[0] ?? "")).find((e) => e.method === "POST" && e.path === "/session");
    expect(entry).toMatchObject({ client: CLIENT_ADDRESS, via: "proxy", peer: "127.0.0.1", proxy: { version, command: "proxy" } });
    if (version === 2) {
      // PP2_TYPE_UNIQUE_ID carries the session key; the auth TLV passed the origin's check.
      expect(Buffer.from(entry?.proxy?.uniqueId ?? "", "hex").toString()).toBe(sessionKeyOf(session.token));
      expect(entry?.proxy?.authKid).toBe(auth ? AUTH_KID : undefined);
    }
  });

  it("CR over HTTP reaches the session's origin with the same address, bodies intact", async () => {
    const session = await createSession();
    const headers = { ...CLAIMS, "x-affinity-token": session.token };
    const record = await fromClient(`${ps.edgeUrl}/session/${session.id}`, { headers });
    expect(record.status).toBe(200);
    expect(record.body).toMatchObject({ id: session.id });
    // A body near the 64 KiB small-body limit, multi-byte characters included.
    const data = "✓ payload ".repeat(5_000);
    const echo = await fromClient(`${ps.edgeUrl}/session/${session.id}/control`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify({ cmd: "echo", data }),
    });
    expect(echo.status).toBe(200);
    expect(echo.body).toMatchObject({ cmd: "echo", data });
    const log = await loggedRequests(ps.inspectUrls[0] ?? "");
    const cr = log.filter((e) => e.path.startsWith(`/session/${session.id}`));
    expect(cr.map((e) => [e.method, e.client, e.via])).toEqual([
      ["GET", CLIENT_ADDRESS, "proxy"],
      ["POST", CLIENT_ADDRESS, "proxy"],
    ]);
  });

  it("HTTP streaming: each event reaches the client before the origin writes the next", async () => {
    const session = await createSession();
    const headers = { ...CLAIMS, "x-affinity-token": session.token };
    const sse = await sseFromClient(`${ps.edgeUrl}/session/${session.id}/stream?interval_ms=0`, { ...headers, "accept-encoding": "gzip" });
    expect(sse.headers["content-type"]).toMatch(/^text\/event-stream/);
    expect(sse.headers["content-encoding"] ?? "identity").toBe("identity");
    for (let n = 1; n <= 4; n++) {
      const emitted = await fromClient(`${ps.edgeUrl}/session/${session.id}/control`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify({ cmd: "emit", data: { n } }),
      });
      expect(emitted.status).toBe(200);
      expect(JSON.parse(await sse.next())).toMatchObject({ type: "emit", data: { n } });
    }
    sse.close();
  });

  it("WebSocket CR: hello names the client; text and binary cross both ways; the origin's close reaches the client", async () => {
    const session = await createSession();
    const client = await wsFromClient(ws(`/session/${session.id}/ws?interval_ms=0`), { ...CLAIMS, "x-affinity-token": session.token });
    expect(await client.nextJson()).toMatchObject({ type: "hello", session: session.id, client: CLIENT_ADDRESS });
    client.ws.send("héllo ✓");
    expect(await client.next()).toEqual({ data: Buffer.from("héllo ✓"), isBinary: false });
    // 70,000 bytes: the 64-bit length form both ways.
    const big = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));
    client.ws.send(big);
    const echoed = await client.next();
    expect(echoed.isBinary).toBe(true);
    expect(echoed.data.equals(big)).toBe(true);
    const closed = await fromClient(`${ps.edgeUrl}/session/${session.id}/control`, {
      method: "POST",
      headers: { "x-affinity-token": session.token, "content-type": "application/json" },
      body: JSON.stringify({ cmd: "close" }),
    });
    expect(closed.status).toBe(200);
    expect(await client.closed()).toEqual({ code: 1000, reason: "session closed" });
  });

  it("WebSocket S: a new session over a WebSocket outlives many origin pings, then closes with the client's code", async () => {
    const client = await wsFromClient(ws("/ws?interval_ms=0"), CLAIMS);
    const hello = await client.nextJson();
    expect(hello).toMatchObject({ type: "hello", client: CLIENT_ADDRESS });
    // Three ping periods: an edge that did not answer the origin's pings would be dropped by now.
    await sleep(3_200);
    client.ws.send("still here");
    expect((await client.next()).data.toString()).toBe("still here");
    client.ws.close(4000, "client done");
    expect(await client.closed()).toMatchObject({ code: 4000 });
  });
});
