/**
 * Issue 13's second acceptance: an origin whose health URL answers `200 OK` in plain text,
 * the way a Lightstreamer Server's own health check does, is healthy with
 * `type: "http", path, expect body "OK"` — and is marked down, with the reason in the pool
 * view, while that URL answers 503 (and back up when it answers OK again).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningStack } from "../../infra/local/stack.ts";
import { testStack } from "./support/stack.ts";
import { withTimeout } from "./support/wait.ts";

const PATH = "/lightstreamer/healthcheck";
const HEALTH = { type: "http", path: PATH, expect: { body: "OK" }, intervalMs: 500, timeoutMs: 400, rise: 1, fall: 1 };

let healthStatus = 200;
let origin: Server;
let stack: RunningStack;
/** The edge's log lines (JSON, one per line). */
const logged: string[] = [];

interface OriginView {
  healthy: boolean;
  checkedAt: number;
  lastError: string | null;
  errorSource: string | null;
  check: string;
}

async function view(): Promise<OriginView | undefined> {
  const res = await fetch(`${stack.edgeUrl}/_edge/admin/pool`, { headers: { authorization: `Bearer ${stack.adminToken}` } });
  return ((await res.json()) as { pools: Array<{ origins: OriginView[] }> }).pools[0]?.origins[0];
}

async function until(check: (v: OriginView) => boolean, what: string): Promise<OriginView> {
  return withTimeout(
    (async () => {
      for (;;) {
        const v = await view();
        if (v !== undefined && v.checkedAt !== 0 && check(v)) return v;
        await new Promise((r) => setTimeout(r, 100));
      }
    })(),
    15_000,
    what,
  );
}

beforeAll(async () => {
  origin = createServer((req, res) => {
    if (req.url === PATH) {
      // Plain text, as Lightstreamer answers it: no JSON anywhere.
      res.writeHead(healthStatus, { "content-type": "text/plain" }).end(healthStatus === 200 ? "OK\r\n" : "");
      return;
    }
    res.writeHead(201, { "content-type": "text/plain", "x-session-id": "s-1" }).end("created");
  });
  await new Promise<void>((resolve) => origin.listen(0, "127.0.0.1", resolve));
  const { port } = origin.address() as AddressInfo;
  stack = await testStack({ origins: [{ id: "ls1", url: `http://127.0.0.1:${port}` }], poolSettings: { health: HEALTH }, log: (line) => logged.push(line) });
});

afterAll(async () => {
  await stack?.close();
  origin?.closeAllConnections();
  await new Promise((resolve) => origin?.close(resolve));
});

describe("a plain-text health URL (Lightstreamer style)", () => {
  it("is healthy while it answers 200 OK, down while it answers 503, and says why", async () => {
    const up = await until((v) => v.healthy, "the origin healthy");
    expect(up.check).toBe(`http: GET ${PATH}, expect 200-399 and body containing "OK" (every 500 ms, timeout 400 ms, rise 1, fall 1)`);
    const placed = await fetch(`${stack.edgeUrl}/session`, { method: "POST" });
    expect(placed.status).toBe(201);
    await placed.text();

    healthStatus = 503;
    const down = await until((v) => !v.healthy, "the origin marked down");
    expect(down.lastError).toBe(`GET ${PATH} answered 503, expected 200-399`);
    expect(down.errorSource).toBe("check");
    // Edge isolates place from a snapshot at most 2 s old: within that, S is refused.
    const refused = await withTimeout(
      (async () => {
        for (;;) {
          const res = await fetch(`${stack.edgeUrl}/session`, { method: "POST" });
          if (res.status === 503) return (await res.json()) as { error: string };
          await res.text();
          await new Promise((r) => setTimeout(r, 200));
        }
      })(),
      10_000,
      "S refused while the origin is down",
    );
    expect(refused.error).toBe("no_origin_available");

    healthStatus = 200;
    const back = await until((v) => v.healthy, "the origin healthy again");
    expect(back.lastError).toBeNull();
    // The edge's log says it too, once each way.
    const events = logged.flatMap((l) => {
      try {
        return [JSON.parse(l) as { event?: string; origin?: string; reason?: string; source?: string }];
      } catch {
        return [];
      }
    });
    expect(events.filter((e) => e.event === "origin_down")).toEqual([
      expect.objectContaining({ origin: "ls1", reason: `GET ${PATH} answered 503, expected 200-399`, source: "check" }),
    ]);
    expect(events.filter((e) => e.event === "origin_up")).toEqual([expect.objectContaining({ origin: "ls1" })]);
  });
});
