/**
 * The shortened chaos run (`npm run chaos -- --quick`, one short pass of each scenario):
 * real origins behind fault proxies, the edge in workerd, SSE and WebSocket clients. Every
 * scenario must lose and duplicate no event, leave no client hanging, route no CR request
 * to a wrong origin, and leave no session object or process behind; and each fault must
 * have had the effect it implies (the killed origin's sessions were all told, the
 * restarted edge's sessions all came back, a stall or a slow origin interrupted nobody).
 */
import { describe, expect, it } from "vitest";
import { startChaosStack } from "../../chaos/lib/chaos-stack.ts";
import { misroutedRequests, sessionLeaks } from "../../chaos/lib/checks.ts";
import { runScenario } from "../../chaos/scenario.ts";
import { SCENARIOS } from "../../chaos/scenarios/index.ts";
import { runSlowConsumer } from "../../chaos/slow-consumer.ts";
import { httpJson } from "./support/http-clients.ts";

const log = (): void => {};

describe("chaos, quick pass", () => {
  for (const scenario of SCENARIOS) {
    it(`${scenario.name}: ${scenario.description}`, async () => {
      const r = await runScenario(scenario, { quick: true, log });
      expect(r.error).toBeUndefined();
      expect({
        lost: r.stats.lost,
        duplicated: r.stats.duplicated,
        hung: r.stats.hung,
        misroutedCr: r.misroutedCr,
        sessionLeaks: r.sessionLeaks,
        processLeaks: r.processLeaks,
      }).toEqual({ lost: 0, duplicated: 0, hung: 0, misroutedCr: 0, sessionLeaks: 0, processLeaks: 0 });
      // The run did something: every client had a session and events flowed.
      expect(r.stats.sessions).toBeGreaterThanOrEqual(r.clients);
      expect(r.stats.events).toBeGreaterThan(r.clients * 10);
      for (const e of r.expectations) expect(e.ok, `${e.what} (${e.detail})`).toBe(true);
    }, 120_000);
  }

  it("slow consumer: an HTTP stream's origin is pushed back; a WebSocket's relay ends at the queue budget", async () => {
    const r = await runSlowConsumer({ quick: true, log });
    expect(r.failures).toEqual([]);
    // The origin wrote a bounded amount to clients that read nothing, and stopped.
    expect(r.http.heldMaxMiB).toBeLessThan(r.http.capMiB / 4);
    expect(r.http.lastSecondGrowthMiB).toBeLessThan(1);
    expect(r.http.resumedWriting).toBe(true);
    // A WebSocket's relay ends with 1013 at the queue budget (issue 16 F5): the origin got
    // to send the budget and the socket buffers' worth, not its cap.
    expect(r.ws.closeCodes).toEqual(Array.from({ length: r.ws.sockets }, () => 1013));
    expect(r.ws.sentWhilePausedMiB / r.ws.sockets).toBeLessThan(r.ws.capMiB / 4);
  }, 120_000);
});

describe("the chaos checks can fail", () => {
  it("a session that never expires is reported as leaked", async () => {
    // No maximum session duration: nothing ends these sessions once their clients leave.
    const stack = await startChaosStack({ originCount: 1, maxSessionSeconds: 0, log });
    try {
      const tokens: string[] = [];
      for (let i = 0; i < 2; i++) {
        const res = await httpJson(`${stack.edgeUrl}/session`, { method: "POST" });
        expect(res.status).toBe(201);
        tokens.push(String(res.headers["x-affinity-token"]));
      }
      const report = await sessionLeaks(stack.edgeUrl, stack.adminToken, tokens, { waitMs: 1_500 });
      expect(report.activeRecords).toBe(2);
      expect(report.leaked).toBeGreaterThanOrEqual(2);
    } finally {
      expect(await stack.close()).toEqual([]);
    }
  }, 60_000);

  it("a CR request on an origin that did not create its session is reported as misrouted", () => {
    const logs = [
      { origin: "o1", entries: [{ method: "POST", path: "/session", status: 201, session: "a" }, { method: "GET", path: "/session/a/stream", status: 200 }] },
      { origin: "o2", entries: [{ method: "GET", path: "/ws", status: 101, session: "b" }, { method: "POST", path: "/session/a/control", status: 404 }] },
    ];
    expect(misroutedRequests(logs)).toEqual([{ origin: "o2", path: "/session/a/control", status: 404 }]);
  });
});
