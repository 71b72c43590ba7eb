/**
 * Passive health from real traffic: an origin that answers 5xx to real requests three
 * times in a row is out of placement at once — though its active check still passes — and
 * the pool view says traffic took it out; its active checks bring it back.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningStack } from "../../infra/local/stack.ts";
import { testStack } from "./support/stack.ts";
import { withTimeout } from "./support/wait.ts";

const HEALTH = { type: "http", path: "/ping", intervalMs: 1000, timeoutMs: 500, rise: 3, fall: 1 };

let stack: RunningStack;
const servers: Server[] = [];

interface OriginView {
  id: string;
  healthy: boolean;
  lastError: string | null;
  errorSource: string | null;
}

/** A server whose health URL passes and whose session creations answer `status`. */
async function origin(id: string, status: number): Promise<string> {
  const server = createServer((req, res) => {
    if (req.url === "/ping") return void res.writeHead(200).end("pong");
    res.writeHead(status, { "x-origin-id": id, "content-type": "text/plain" }).end(status === 201 ? "created" : "broken");
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function pool(): Promise<OriginView[]> {
  const res = await fetch(`${stack.edgeUrl}/_edge/admin/pool`, { headers: { authorization: `Bearer ${stack.adminToken}` } });
  return ((await res.json()) as { pools: Array<{ origins: OriginView[] }> }).pools[0]?.origins ?? [];
}

async function until(check: () => Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  await withTimeout(
    (async () => {
      while (!(await check())) await new Promise((r) => setTimeout(r, 100));
    })(),
    ms,
    what,
  );
}

async function createSession(): Promise<{ status: number; origin: string }> {
  const res = await fetch(`${stack.edgeUrl}/session`, { method: "POST" });
  await res.text();
  return { status: res.status, origin: res.headers.get("x-origin-id") ?? "" };
}

beforeAll(async () => {
  const origins = [
    { id: "bad", url: await origin("bad", 500) },
    { id: "good", url: await origin("good", 201) },
  ];
  stack = await testStack({ origins, poolSettings: { health: HEALTH, slowStartSeconds: 0, rebalance: { enabled: false } } });
});

afterAll(async () => {
  await stack?.close();
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

describe("passive health", () => {
  it("takes an origin out of placement after a run of 5xx, says so, and lets its checks bring it back", async () => {
    await until(async () => (await pool()).every((o) => o.healthy), "both origins healthy");
    let fromBad = 0;
    for (let i = 0; i < 60 && fromBad < 3; i++) {
      const s = await createSession();
      if (s.origin === "bad") {
        expect(s.status).toBe(500);
        fromBad++;
      }
    }
    expect(fromBad).toBe(3);
    // At once: nothing more goes there, though /ping still passes.
    for (let i = 0; i < 10; i++) expect(await createSession()).toEqual({ status: 201, origin: "good" });
    const bad = (await pool()).find((o) => o.id === "bad");
    expect(bad?.healthy).toBe(false);
    expect(bad?.errorSource).toBe("traffic");
    expect(bad?.lastError).toMatch(/^traffic: it answered 5xx repeatedly \(3 in a row within \d+ s, the last 500\) — out of placement until its health checks pass again$/);
    // Its active checks (rise 3) bring it back.
    await until(async () => (await pool()).find((o) => o.id === "bad")?.healthy === true, "bad back after its checks pass");
  });
});
