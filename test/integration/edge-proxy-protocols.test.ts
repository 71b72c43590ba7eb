/**
 * The protocol adapters over the `tcp` transport: Lightstreamer (TLCP) with the real
 * client against reference origins that require a signed PROXY v2 header, and Socket.IO
 * (Engine.IO) with real servers behind a PROXY-terminating L4 front. Sessions work on
 * every transport, and the origin side learns the address the edge saw from the header.
 */
import { Agent } from "node:http";
import { join } from "node:path";
import { io } from "socket.io-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../infra/local/edge.ts";
import { startReadyProcess, type OriginProcess } from "../../infra/local/origin-process.ts";
import type { RunningStack } from "../../infra/local/stack.ts";
import { CLIENT_ADDRESS, fromClient, loggedRequests, proxyStack, type ProxyStack } from "./support/edge-proxy.ts";
import { connectClient, type TestClient, type Transport } from "./support/lightstreamer-client.ts";
import { startProxyFront, type ProxyFront } from "./support/proxy-front.ts";
import { testStack } from "./support/stack.ts";
import { withTimeout } from "./support/wait.ts";

describe("TLCP over the tcp transport (origins require signed PROXY v2)", () => {
  let ps: ProxyStack;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    ps = await proxyStack({ version: 2, auth: true, originCount: 2, originArgs: ["--tlcp-clock-ms", "50", "--tlcp-session-expiry-ms", "5000"] });
  });
  afterEach(async () => {
    await Promise.allSettled(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await ps?.close();
  });

  for (const transport of ["WS-STREAMING", "HTTP-STREAMING", "HTTP-POLLING"] as const satisfies readonly Transport[]) {
    it(`${transport}: consecutive clock updates from one origin, every request through the PROXY header`, async () => {
      const client = connectClient(ps.edgeUrl, transport, (c) => c.connectionOptions.setCookieHandlingRequired(false));
      clients.push(client);
      expect(await client.status(`CONNECTED:${transport}`)).toBe(`CONNECTED:${transport}`);
      const clock = client.subscribe("MERGE", ["clock"], ["seq", "origin"], "no");
      await clock.subscribed();
      const updates = [];
      for (let i = 0; i < 10; i++) updates.push(await clock.next(`clock update ${i + 1}`));
      const seqs = updates.map((u) => Number(u.values.seq));
      expect(seqs).toEqual(seqs.map((_, i) => (seqs[0] ?? 0) + i));
      expect(new Set(updates.map((u) => u.values.origin)).size).toBe(1);
      expect(client.serverErrors).toEqual([]);
      const logged = (await Promise.all(ps.inspectUrls.map(loggedRequests))).flat().filter((e) => e.path.startsWith("/lightstreamer"));
      expect(logged.length).toBeGreaterThan(0);
      for (const entry of logged) expect(entry).toMatchObject({ via: "proxy", proxy: { version: 2, authKid: expect.any(String) } });
    });
  }

  it("CLIENTIP names the address the edge saw, not the client's X-Forwarded-For", async () => {
    const res = await fromClient(`${ps.edgeUrl}/lightstreamer/create_session.txt?LS_protocol=TLCP-2.5.0`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-forwarded-for": "6.6.6.6" },
      body: "LS_cid=mgQkwtwdysogQz2BJ4Ji%20kOj2Bg&LS_adapter_set=DEMO&LS_polling=true&LS_polling_millis=0&LS_idle_millis=0",
    });
    expect(res.status).toBe(200);
    const lines = String(res.body).split("\r\n");
    expect(lines[0]).toMatch(/^CONOK,/);
    expect(lines).toContain(`CLIENTIP,${CLIENT_ADDRESS}`);
  });
});

describe("Engine.IO over the tcp transport (Socket.IO servers behind a PROXY-only front)", () => {
  const SERVER = join(REPO_ROOT, "test", "integration", "support", "socketio-server.ts");
  let servers: OriginProcess[] = [];
  let fronts: ProxyFront[] = [];
  let stack: RunningStack;

  beforeAll(async () => {
    servers = await Promise.all(["s1", "s2"].map((id) => startReadyProcess(SERVER, id, ["--id", id])));
    fronts = await Promise.all(servers.map((s) => startProxyFront(s.url)));
    stack = await testStack({
      origins: servers.map((s, i) => ({ id: s.id, url: fronts[i]?.url ?? "", transport: "tcp" as const, proxy: { version: 2 as const } })),
    });
  });
  afterAll(async () => {
    await stack?.close();
    await Promise.all(fronts.map((f) => f.close()));
    await Promise.all(servers.map((s) => s.stop()));
  });

  for (const mode of ["websocket-only", "polling-then-upgrade", "polling-only"] as const) {
    it(`${mode}: emit/ack round trips stay on one server; the front saw the edge's client address`, async () => {
      const before = fronts.map((f) => f.sources.length);
      // Both Engine.IO transports from CLIENT_ADDRESS: polling through the agent, WebSocket
      // through ws (Node-only options the browser-centred typings do not list).
      const fromAddress: Record<string, unknown> = { agent: new Agent({ localAddress: CLIENT_ADDRESS }), localAddress: CLIENT_ADDRESS };
      const socket = io(stack.edgeUrl, {
        transports: mode === "websocket-only" ? ["websocket"] : mode === "polling-only" ? ["polling"] : ["polling", "websocket"],
        reconnection: false,
        forceNew: true,
        timeout: 10_000,
        ...fromAddress,
      });
      try {
        const origins = new Set<string>();
        await withTimeout(new Promise<void>((resolve, reject) => {
          socket.once("connect", () => resolve());
          socket.once("connect_error", reject);
        }), 10_000, "socket.io connect");
        for (let i = 0; i < 10; i++) {
          const ack = await withTimeout(socket.emitWithAck("echo", { i }) as Promise<{ data: unknown; origin: string }>, 10_000, `ack ${i}`);
          expect(ack.data).toEqual({ i });
          origins.add(ack.origin);
        }
        expect(origins.size).toBe(1);
      } finally {
        socket.disconnect();
      }
      const seen = fronts.flatMap((f, i) => f.sources.slice(before[i] ?? 0)).filter((s) => s !== null);
      expect(seen.length).toBeGreaterThan(0);
      expect(new Set(seen)).toEqual(new Set([CLIENT_ADDRESS]));
      expect(fronts.reduce((n, f) => n + f.refused, 0)).toBe(0);
    });
  }
});
