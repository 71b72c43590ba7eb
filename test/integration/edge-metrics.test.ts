/**
 * Metrics after a scripted run: the local stack takes a known sequence — WebSocket S
 * requests (some refused by admission control), CR requests, bad tokens of three kinds, a
 * drain, an origin killed under open WebSockets, a CR to it — and /_edge/metrics then shows
 * exactly those counts, fleet-wide (flushed from the edge isolate and the session objects
 * to the pool coordinator), in Prometheus text.
 */
import { SignJWT, base64url } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_AFFINITY_KEYS, DEV_SIGNING_KID } from "../../infra/local/dev-secrets.ts";
import type { RunningStack } from "../../infra/local/stack.ts";
import { openWebSocket, rejectedUpgrade, type WsClient } from "./support/http-clients.ts";
import { parsePrometheus, sampleValue, type Sample } from "./support/prometheus.ts";
import { testStack } from "./support/stack.ts";
import { sleep, withTimeout } from "./support/wait.ts";

/** Admission: each origin takes BURST sessions, then (at a negligible refill rate) none. */
const BURST = 3;
const ORIGINS = ["o1", "o2", "o3"];
const PLACED = BURST * ORIGINS.length;
const REFUSED = 2;

let stack: RunningStack;
const sessions: Array<{ id: string; origin: string; token: string; client: WsClient }> = [];

beforeAll(async () => {
  stack = await testStack({
    originCount: 3,
    poolSettings: { admission: { sessionsPerSecond: 0.001, burst: BURST }, rebalance: { enabled: false } },
  });
});
afterAll(async () => {
  for (const s of sessions) s.client.ws.terminate();
  await stack?.close();
});

const auth = () => ({ authorization: `Bearer ${stack.adminToken}` });

async function scrape(): Promise<{ text: string; samples: Sample[] }> {
  const res = await fetch(`${stack.edgeUrl}/_edge/metrics`, { headers: auth() });
  expect(res.status).toBe(200);
  const text = await res.text();
  return { text, samples: parsePrometheus(text) };
}

/** Polls (bounded) until `check` holds for a scrape. */
async function scrapeUntil(check: (samples: Sample[]) => boolean, what: string): Promise<Sample[]> {
  return withTimeout(
    (async () => {
      for (;;) {
        const { samples } = await scrape();
        if (check(samples)) return samples;
        await sleep(250);
      }
    })(),
    20_000,
    what,
  );
}

function devKey(): Uint8Array {
  const keys = JSON.parse(DEV_AFFINITY_KEYS) as Record<string, string>;
  return base64url.decode(keys[DEV_SIGNING_KID] ?? "");
}

async function control(id: string, token: string): Promise<number> {
  const res = await fetch(`${stack.edgeUrl}/session/${id}/control`, {
    method: "POST",
    headers: { "x-affinity-token": token, "content-type": "application/json" },
    body: JSON.stringify({ cmd: "echo", data: 1 }),
  });
  await res.arrayBuffer();
  return res.status;
}

describe("/_edge/metrics after a scripted run", () => {
  it("counts exactly what the run did", async () => {
    // S: PLACED WebSocket sessions, then REFUSED refusals by admission control.
    const wsUrl = `${stack.edgeUrl.replace(/^http/, "ws")}/ws?interval_ms=0&announce_affinity=1`;
    for (let i = 0; i < PLACED; i++) {
      const client = await openWebSocket(wsUrl);
      const token = String((await client.nextJson()).token);
      const hello = await client.nextJson();
      sessions.push({ id: String(hello.session), origin: String(hello.origin), token, client });
    }
    for (let i = 0; i < REFUSED; i++) expect((await rejectedUpgrade(wsUrl)).status).toBe(503);
    for (const o of ORIGINS) expect(sessions.filter((s) => s.origin === o)).toHaveLength(BURST);

    // CR: one good control request per session.
    for (const s of sessions) expect(await control(s.id, s.token)).toBe(200);

    // Bad tokens: 2 malformed, 1 bad signature, 1 expired.
    const first = sessions[0];
    if (first === undefined) throw new Error("no session");
    expect(await control(first.id, "not.a.token")).toBe(401);
    expect(await control(first.id, "garbage")).toBe(401);
    expect(await control(first.id, `${first.token.slice(0, -4)}AAAA`)).toBe(401);
    const past = Math.floor(Date.now() / 1000) - 3600;
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(first.token.split(".")[1] ?? ""))) as { sk: string; o: string };
    const expired = await new SignJWT({ sk: claims.sk, o: claims.o })
      .setProtectedHeader({ alg: "HS256", kid: DEV_SIGNING_KID })
      .setAudience("default")
      .setIssuedAt(past - 60)
      .setExpirationTime(past)
      .sign(devKey());
    expect(await control(first.id, expired)).toBe(401);

    // Drain o1: its BURST sessions end.
    const drain = await fetch(`${stack.edgeUrl}/_edge/admin/pools/default/origins/o1/state`, {
      method: "POST",
      headers: { ...auth(), "content-type": "application/json" },
      body: JSON.stringify({ state: "drain", rate: 50 }),
    });
    expect(drain.status).toBe(200);
    await scrapeUntil((s) => sampleValue(s, "edge_sessions_ended_total", { pool: "default", origin: "o1", reason: "drain" }) === BURST, "the drain to end o1's sessions");

    for (const s of sessions.filter((x) => x.origin === "o1")) expect((await s.client.closed()).code).toBe(1012);

    // o3 dies under its open WebSockets (SIGKILL: no goodbye): each is a relay error; then a
    // CR to one of its sessions: 502, one more.
    const victim = stack.processes.find((p) => p.id === "o3");
    const onO3 = sessions.filter((s) => s.origin === "o3");
    if (victim === undefined || onO3[0] === undefined) throw new Error("no o3");
    victim.child.kill("SIGKILL");
    for (const s of onO3) expect((await s.client.closed()).code).toBe(1011);
    expect(await control(onO3[0].id, onO3[0].token)).toBe(502);

    const samples = await scrapeUntil(
      (s) =>
        sampleValue(s, "edge_requests_total", { pool: "default", kind: "CR", status: "5xx" }) !== undefined &&
        sampleValue(s, "edge_relay_errors_total", { pool: "default", origin: "o3", kind: "origin_websocket_failed" }) !== undefined,
      "the last request's metrics",
    );
    const value = (name: string, labels: Record<string, string>) => sampleValue(samples, name, { pool: "default", ...labels });

    expect(value("edge_requests_total", { kind: "S", status: "1xx" })).toBe(PLACED);
    expect(value("edge_requests_total", { kind: "S", status: "5xx" })).toBe(REFUSED);
    expect(value("edge_requests_total", { kind: "CR", status: "2xx" })).toBe(PLACED);
    expect(value("edge_requests_total", { kind: "CR", status: "4xx" })).toBe(4);
    expect(value("edge_requests_total", { kind: "CR", status: "5xx" })).toBe(1);
    for (const o of ORIGINS) expect(value("edge_sessions_placed_total", { origin: o })).toBe(BURST);
    expect(value("edge_admission_rejections_total", { reason: "rate_limit" })).toBe(REFUSED);
    expect(value("edge_admission_rejections_total", { reason: "no_origin" })).toBeUndefined();
    expect(value("edge_token_failures_total", { reason: "malformed" })).toBe(2);
    expect(value("edge_token_failures_total", { reason: "bad_signature" })).toBe(1);
    expect(value("edge_token_failures_total", { reason: "expired" })).toBe(1);
    expect(value("edge_relay_errors_total", { origin: "o3", kind: "origin_unreachable" })).toBe(1);
    expect(value("edge_relay_errors_total", { origin: "o3", kind: "origin_websocket_failed" })).toBe(BURST);
    // Ended on purpose (the drain's 1012) is no relay error.
    expect(value("edge_relay_errors_total", { origin: "o1", kind: "origin_websocket_failed" })).toBeUndefined();
    expect(value("edge_sessions_ended_total", { origin: "o1", reason: "drain" })).toBe(BURST);
    expect(value("edge_sessions_ended_total", { origin: "o2", reason: "drain" })).toBeUndefined();
    expect(value("edge_request_duration_seconds_count", { kind: "S" })).toBe(PLACED + REFUSED);
    expect(value("edge_request_duration_seconds_count", { kind: "CR" })).toBe(PLACED + 4 + 1);
    expect(value("edge_request_duration_seconds_bucket", { kind: "CR", le: "+Inf" })).toBe(PLACED + 4 + 1);
    // Gauges: o1 drained to nothing, o2 untouched.
    expect(value("edge_sessions", { origin: "o1", state: "draining" })).toBe(0);
    expect(value("edge_sessions", { origin: "o2", state: "active" })).toBe(BURST);
  });

  it("refuses a scrape without the admin token", async () => {
    const res = await fetch(`${stack.edgeUrl}/_edge/metrics`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: "unauthorized" });
  });
});
