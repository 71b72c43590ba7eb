/**
 * Issue 16 F2, end to end (edge in workerd, real reference origin): a tokenless request
 * to an origin's admin or debug endpoint through the public edge.
 * - The edge's default path policy refuses `/admin/*` and `/_debug/*` (403 `forbidden`,
 *   JSON) in every spelling tried; nothing reaches the origin.
 * - With the policy switched off for a pool (`deny: []`), the origin itself refuses: its
 *   listener for the edge serves neither endpoint (404 `wrong_listener`), so the origin is
 *   still active and no client's address leaks.
 * - An allow list refuses what it does not name.
 * Each pool is picked by the Host header; all three share the one origin.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOriginProcess, type OriginProcess } from "../../infra/local/origin-process.ts";
import { ADMIN_LISTENER } from "../../infra/local/stack.ts";
import type { RunningStack } from "../../infra/local/stack.ts";
import { httpJson } from "./support/http-clients.ts";
import { rawExchange, rawJsonBody, rawStatus } from "./support/raw-tcp.ts";
import { testStack } from "./support/stack.ts";

const ADMIN_PATHS: ReadonlyArray<readonly [string, string]> = [
  ["POST", "/admin/state"],
  ["GET", "/_debug/requests"],
  ["POST", "/ADMIN/state"],
  ["POST", "/%61dmin/state"],
  ["POST", "//admin/state"],
  ["POST", "/x/..%2Fadmin/state"],
  ["POST", "/admin;x=1/state"],
  ["GET", "/_debug%2Frequests"],
];

describe("edge path policy and the origin's admin listener (issue 16 F2)", () => {
  let origin: OriginProcess;
  let stack: RunningStack;

  beforeAll(async () => {
    origin = await startOriginProcess("o1", ["--listen", "combined=127.0.0.1:0", "--listen", ADMIN_LISTENER, "--interval-ms", "0"]);
    const origins = [{ id: "o1", url: origin.url }];
    stack = await testStack({
      origins,
      vars: {
        POOLS: JSON.stringify({
          pools: [
            { name: "open", hosts: ["open.test"], origins, settings: { pathPolicy: { deny: [] } } },
            { name: "strict", hosts: ["strict.test"], origins, settings: { pathPolicy: { allow: ["/session", "/session/*"] } } },
            { name: "default", hosts: ["*"], origins },
          ],
        }),
      },
    });
  });
  afterAll(async () => {
    await stack?.close();
    await origin?.stop();
  });

  const originLog = async (): Promise<Array<{ method: string; path: string }>> =>
    (await httpJson(`${origin.adminUrl ?? ""}/_debug/requests`)).body as Array<{ method: string; path: string }>;
  const originState = async (): Promise<unknown> => ((await httpJson(`${origin.adminUrl ?? ""}/health`)).body as { state: unknown }).state;

  /** Raw bytes, so the path reaches the edge exactly as written (no client-side normalising). */
  async function viaEdge(method: string, path: string, host: string): Promise<{ status: number | undefined; body: unknown }> {
    const body = method === "POST" ? '{"state":"blocked"}' : "";
    const framing = method === "POST" ? `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n` : "";
    const answer = await rawExchange(Number(new URL(stack.edgeUrl).port), [
      `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\n${framing}Connection: close\r\n\r\n${body}`,
    ]);
    return { status: rawStatus(answer.response), body: rawJsonBody(answer.response) };
  }

  it("refuses the admin and debug paths by default, in every spelling, before any origin sees them", async () => {
    const before = (await originLog()).length;
    for (const [method, path] of ADMIN_PATHS) {
      const answer = await viaEdge(method, path, "push.test");
      expect(answer.status, path).toBe(403);
      expect(answer.body, path).toMatchObject({ error: "forbidden" });
    }
    expect((await originLog()).slice(before)).toEqual([]);
    expect(await originState()).toBe("active");
    // The pool still serves its protocol.
    expect((await viaEdge("POST", "/session", "push.test")).status).toBe(201);
  });

  it("with the edge policy off, the origin's public listener still serves neither endpoint", async () => {
    const state = await viaEdge("POST", "/admin/state", "open.test");
    expect(state.status).toBe(404);
    expect(state.body).toMatchObject({ error: "wrong_listener" });
    const debug = await viaEdge("GET", "/_debug/requests", "open.test");
    expect(debug.status).toBe(404);
    expect(debug.body).toMatchObject({ error: "wrong_listener" });
    expect(await originState()).toBe("active");
  });

  it("an allow list refuses every path it does not name", async () => {
    expect((await viaEdge("GET", "/health", "strict.test")).status).toBe(403);
    expect((await viaEdge("POST", "/session", "strict.test")).status).toBe(201);
  });
});
