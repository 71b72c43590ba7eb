/**
 * Active checks against real servers, for the check types the other health tests do not
 * run for real: `tcp` over the PROXY `tcp` transport (reference origins that require a
 * PROXY header; the check sends a LOCAL one, so the listener sees no malformed connection)
 * and the Engine.IO `probe` against an unmodified
 * Socket.IO server. Each is healthy while its server runs and down, with the reason, once
 * it is stopped — and S requests go only to the origin that is up.
 */
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../infra/local/edge.ts";
import { startReadyProcess, type OriginProcess } from "../../infra/local/origin-process.ts";
import type { RunningStack } from "../../infra/local/stack.ts";
import { proxyStack, type ProxyStack } from "./support/edge-proxy.ts";
import { testStack } from "./support/stack.ts";
import { withTimeout } from "./support/wait.ts";

const FAST = { intervalMs: 500, timeoutMs: 400, rise: 1, fall: 1 };
const SOCKETIO = join(REPO_ROOT, "test", "integration", "support", "plain-socketio-server.ts");

interface OriginView {
  id: string;
  healthy: boolean;
  checkedAt: number;
  lastError: string | null;
  check: string;
}

let ps: ProxyStack | undefined;
let stack: RunningStack | undefined;
const servers: OriginProcess[] = [];

afterEach(async () => {
  await ps?.close();
  await stack?.close();
  await Promise.all(servers.map((s) => s.stop()));
  ps = undefined;
  stack = undefined;
  servers.length = 0;
});

async function origins(edgeUrl: string, token: string): Promise<OriginView[]> {
  const res = await fetch(`${edgeUrl}/_edge/admin/pool`, { headers: { authorization: `Bearer ${token}` } });
  return ((await res.json()) as { pools: Array<{ origins: OriginView[] }> }).pools[0]?.origins ?? [];
}

async function until(edgeUrl: string, token: string, check: (o: OriginView[]) => boolean, what: string): Promise<OriginView[]> {
  return withTimeout(
    (async () => {
      for (;;) {
        const o = await origins(edgeUrl, token);
        if (o.length > 0 && o.every((x) => x.checkedAt !== 0) && check(o)) return o;
        await new Promise((r) => setTimeout(r, 100));
      }
    })(),
    15_000,
    what,
  );
}

describe("active checks against real servers", () => {
  it("tcp over the PROXY transport: up while the origin listens, down with the reason once it stops", async () => {
    ps = await proxyStack({ version: 2, originCount: 2, poolSettings: { health: { type: "tcp", ...FAST }, slowStartSeconds: 0 } });
    const { edgeUrl, stack: s } = ps;
    const up = await until(edgeUrl, s.adminToken, (o) => o.every((x) => x.healthy), "both PROXY-only origins healthy");
    expect(up[0]?.check).toBe("tcp: connect (every 500 ms, timeout 400 ms, rise 1, fall 1)");

    const stopped = s.processes[0];
    if (stopped === undefined) throw new Error("no origin process");
    await stopped.stop();
    const after = await until(edgeUrl, s.adminToken, (o) => o.find((x) => x.id === stopped.id)?.healthy === false, "the stopped origin down");
    const host = new URL(stopped.url).host;
    expect(after.find((x) => x.id === stopped.id)?.lastError).toMatch(new RegExp(`^TCP connect to ${host.replace(/\./g, "\\.")} failed \\(.+\\) — is the server running`));
    // The other origin, which only speaks PROXY, still passes and still takes sessions.
    expect(after.find((x) => x.id !== stopped.id)?.healthy).toBe(true);
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${edgeUrl}/session`, { method: "POST" });
      await res.text();
      expect(res.status).toBe(201);
      expect(res.headers.get("x-origin-id")).not.toBe(stopped.id);
    }
  });

  it("the Engine.IO probe: an unmodified Socket.IO server passes, and is down once it stops", async () => {
    const server = await startReadyProcess(SOCKETIO, "sio", ["--id", "sio"]);
    servers.push(server);
    stack = await testStack({ origins: [{ id: "sio", url: server.url }], poolSettings: { health: { type: "probe", protocol: "engine.io", ...FAST } } });
    const up = await until(stack.edgeUrl, stack.adminToken, (o) => o[0]?.healthy === true, "the Socket.IO server healthy by its handshake");
    expect(up[0]?.check).toBe("probe: engine.io (every 500 ms, timeout 400 ms, rise 1, fall 1)");
    await server.stop();
    const down = await until(stack.edgeUrl, stack.adminToken, (o) => o[0]?.healthy === false, "the stopped server down");
    expect(down[0]?.lastError).toMatch(/^engine\.io probe failed: .+ — is the server running and listening at http:\/\/127\.0\.0\.1:\d+\?$/);
  });
});
