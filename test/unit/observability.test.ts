/**
 * Observability pieces on their own: the Prometheus renderer, the summing of isolate
 * deltas (in memory and in the coordinator's store), the Analytics Engine writer with a
 * fake binding, and the edge endpoints' authentication.
 */
import { env, exports } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MetricsStore } from "../../durable-objects/pool/metrics-store.ts";
import { HISTORY_MS, SessionHistory } from "../../durable-objects/pool/session-history.ts";
import { coordinatorStub } from "../../durable-objects/pool/stub.ts";
import { createApp } from "../../workers/edge/app.ts";
import { PoolView } from "../../workers/edge/balance/pool-view.ts";
import type { PoolConfig } from "../../config/config.ts";
import { resolveConfig } from "../../config/config.ts";
import { writeAnalyticsPoint } from "../../observability/analytics.ts";
import { log } from "../../observability/log.ts";
import { count, resetMetrics, takeDelta } from "../../observability/metrics.ts";
import { renderPrometheus } from "../../observability/prometheus.ts";
import { LATENCY_BUCKETS, SeriesSums, type MetricsDelta } from "../../observability/series.ts";

afterEach(() => {
  vi.restoreAllMocks();
});

function delta(build: (s: SeriesSums) => void): MetricsDelta {
  const sums = new SeriesSums();
  build(sums);
  return sums.toDelta();
}

describe("Prometheus text rendering", () => {
  it("writes HELP and TYPE once per metric, counters with labels, and escapes label values", () => {
    const text = renderPrometheus({
      counters: [
        { name: "edge_token_failures_total", labels: { pool: "p", reason: "expired" }, value: 3 },
        { name: "edge_token_failures_total", labels: { reason: "malformed", pool: 'a"b\\c\nd' }, value: 1 },
      ],
      histograms: [],
      gauges: [{ name: "edge_sessions", labels: { pool: "p", origin: "o1", state: "draining" }, value: 7 }],
    });
    const lines = text.split("\n");
    expect(lines.filter((l) => l === "# TYPE edge_token_failures_total counter")).toHaveLength(1);
    expect(lines).toContain('edge_token_failures_total{pool="p",reason="expired"} 3');
    expect(lines).toContain('edge_token_failures_total{pool="a\\"b\\\\c\\nd",reason="malformed"} 1');
    expect(lines).toContain('edge_sessions{origin="o1",pool="p",state="draining"} 7');
    expect(lines).toContain("# TYPE edge_sessions gauge");
    // A metric without samples still announces itself.
    expect(lines).toContain("# TYPE edge_relay_errors_total counter");
    expect(text.endsWith("\n")).toBe(true);
  });

  it("writes histograms as cumulative buckets ending in +Inf, with _sum and _count", () => {
    const sums = new SeriesSums();
    for (const seconds of [0.0005, 0.003, 0.003, 0.2, 30]) sums.observe("edge_request_duration_seconds", { pool: "p", kind: "S" }, seconds);
    const text = renderPrometheus({ ...sums.toDelta(), gauges: [] });
    const bucket = (le: string) => text.split("\n").find((l) => l.startsWith(`edge_request_duration_seconds_bucket{kind="S",pool="p",le="${le}"}`));
    expect(bucket("0.001")).toMatch(/ 1$/);
    expect(bucket("0.0025")).toMatch(/ 1$/);
    expect(bucket("0.005")).toMatch(/ 3$/);
    expect(bucket("0.25")).toMatch(/ 4$/);
    expect(bucket("10")).toMatch(/ 4$/);
    expect(bucket("+Inf")).toMatch(/ 5$/);
    expect(text).toContain('edge_request_duration_seconds_count{kind="S",pool="p"} 5');
    expect(text).toMatch(/edge_request_duration_seconds_sum\{kind="S",pool="p"\} 30\.206/);
    expect(text.split("\n").filter((l) => l.includes("_bucket{")).length).toBe(LATENCY_BUCKETS.length + 1);
  });
});

describe("summing deltas", () => {
  const a = delta((s) => {
    s.count("edge_requests_total", { pool: "p", kind: "S", status: "2xx" }, 2);
    s.observe("edge_request_duration_seconds", { pool: "p", kind: "S" }, 0.004);
  });
  const b = delta((s) => {
    s.count("edge_requests_total", { status: "2xx", kind: "S", pool: "p" }, 5);
    s.count("edge_token_failures_total", { pool: "p", reason: "expired" }, 1);
    s.observe("edge_request_duration_seconds", { kind: "S", pool: "p" }, 2);
  });

  it("counts a series given in two label orders as one, and labels that read alike end to end as two", () => {
    const sums = new SeriesSums();
    sums.count("edge_requests_total", { kind: "xy", status: "z" }, 1);
    sums.count("edge_requests_total", { status: "z", kind: "xy" }, 2);
    sums.count("edge_requests_total", { kind: "x", status: "yz" }, 4);
    sums.count("edge_requests_total", { kind: "x", statusy: "z" }, 8);
    expect(sums.toDelta().counters.map((c) => c.value).sort((x, y) => x - y)).toEqual([3, 4, 8]);
    sums.observe("edge_request_duration_seconds", { pool: "p", kind: "S" }, 0.004);
    sums.observe("edge_request_duration_seconds", { kind: "S", pool: "p" }, 0.004);
    expect(sums.toDelta().histograms).toHaveLength(1);
    expect(sums.toDelta().histograms[0]?.count).toBe(2);
  });

  it("adds the same series from two isolates, whatever the label order", () => {
    for (const order of [[a, b], [b, a]]) {
      const total = new SeriesSums();
      for (const d of order) total.merge(d);
      const out = total.toDelta();
      expect(out.counters.find((c) => c.name === "edge_requests_total")?.value).toBe(7);
      expect(out.counters.find((c) => c.name === "edge_token_failures_total")?.value).toBe(1);
      expect(out.histograms).toHaveLength(1);
      expect(out.histograms[0]).toMatchObject({ count: 2, sum: 2.004 });
    }
  });

  it("the pool coordinator keeps the sum of every flush", async () => {
    const coordinator = coordinatorStub(env, `metrics-${crypto.randomUUID()}`);
    await coordinator.addMetrics(a);
    await coordinator.addMetrics(b);
    await coordinator.addMetrics(a);
    const totals = await coordinator.metricTotals();
    expect(totals.counters.find((c) => c.name === "edge_requests_total")?.value).toBe(9);
    expect(totals.histograms[0]).toMatchObject({ count: 3 });
    // What an evicted coordinator reads back from its SQLite storage.
    const reloaded = await runInDurableObject(coordinator, (_instance, state) => new MetricsStore(state.storage.sql).totals());
    const byName = (d: MetricsDelta) => [...d.counters].sort((x, y) => x.name.localeCompare(y.name));
    expect(byName(reloaded)).toEqual(byName(totals));
    expect(reloaded.histograms).toEqual(totals.histograms);
  });
});

describe("isolate deltas ride on the snapshot read", () => {
  it("a pool view refresh carries this isolate's unsent counts to the coordinator", async () => {
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => Response.json({ state: "active", sessions: 0, capacity: 1000 }));
    resetMetrics();
    const base = resolveConfig(env).pools[0];
    if (base === undefined) throw new Error("no pool");
    const pool: PoolConfig = { ...base, name: `carry-${crypto.randomUUID()}` };
    count(pool.name, "edge_sessions_placed_total", { origin: "o2" }, 4);
    const coordinator = coordinatorStub(env, pool.name);
    await new PoolView(pool).refresh(coordinator);
    // Taken by the refresh: nothing left for a flush of its own.
    expect(takeDelta(pool.name)).toBeUndefined();
    const totals = await coordinator.metricTotals();
    expect(totals.counters).toEqual([{ name: "edge_sessions_placed_total", labels: { pool: pool.name, origin: "o2" }, value: 4 }]);
  });
});

describe("sessions-per-origin history", () => {
  it("keeps the last HISTORY_MS, and one point for changes a moment apart", () => {
    const history = new SessionHistory();
    history.record(0, { o1: 1 });
    history.record(1_000, { o1: 2 });
    history.record(1_100, { o1: 3 }); // the same moment as the last: replaces it
    expect(history.points()).toEqual([
      { at: 0, sessions: { o1: 1 } },
      { at: 1_100, sessions: { o1: 3 } },
    ]);
    history.record(HISTORY_MS + 500, { o1: 4 });
    expect(history.points().map((p) => p.at)).toEqual([1_100, HISTORY_MS + 500]);
  });
});

describe("pool stream", () => {
  it("sends the history first, then the pool view, as server-sent events", async () => {
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => Response.json({ state: "active", sessions: 0, capacity: 1000 }));
    const res = await exports.default.fetch(new Request("http://push.example.com/_edge/admin/pool/stream", { headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    expect(res.headers.get("content-encoding")).toBe("identity");
    const reader = res.body?.getReader();
    if (reader === undefined) throw new Error("no body");
    let text = "";
    const decoder = new TextDecoder();
    while (!text.includes("event: pool\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    await reader.cancel();
    const events = text.split("\n\n").filter((e) => e.startsWith("event:"));
    expect(events[0]).toMatch(/^event: history\ndata: \{"pools":\[\{"name":"default","points":/);
    const pool = JSON.parse(events[1]?.split("\ndata: ")[1] ?? "{}") as { pools: Array<{ name: string; origins: Array<{ id: string }> }> };
    expect(pool.pools[0]?.origins.map((o) => o.id)).toEqual(["o1", "o2", "o3"]);
  });
});

describe("structured logs", () => {
  it("writes one JSON line per event with event, time and the fields given", () => {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: string) => lines.push(line));
    log("session_placed", { sk: "abc", pool: "p", origin: "o1" });
    expect(lines).toHaveLength(1);
    const parsed = JSON.parse(lines[0] ?? "") as Record<string, unknown>;
    expect(parsed).toMatchObject({ event: "session_placed", sk: "abc", pool: "p", origin: "o1" });
    expect(new Date(String(parsed.at)).getTime()).toBeGreaterThan(0);
    expect(lines[0]).not.toContain("\n");
  });
});

describe("Workers Analytics Engine", () => {
  const point = { pool: "p", kind: "S", origin: "o2", status: 201, outcome: "placed", seconds: 0.012 };

  it("writes one data point per request when METRICS is bound", () => {
    const written: unknown[] = [];
    const fake = { writeDataPoint: (p: unknown) => written.push(p) };
    writeAnalyticsPoint({ ...env, METRICS: fake } as unknown as Env, point);
    expect(written).toEqual([{ indexes: ["p"], blobs: ["S", "o2", "2xx", "placed"], doubles: [201, 0.012] }]);
  });

  it("does nothing without the binding, and never throws from a failing one", () => {
    expect(() => writeAnalyticsPoint(env, point)).not.toThrow();
    const broken = { writeDataPoint: () => { throw new Error("dataset unavailable"); } };
    expect(() => writeAnalyticsPoint({ ...env, METRICS: broken } as unknown as Env, point)).not.toThrow();
  });
});

describe("edge endpoints", () => {
  it("/_edge/metrics and the pool stream need the admin token", async () => {
    for (const path of ["/_edge/metrics", "/_edge/admin/pool/stream"]) {
      const res = await exports.default.fetch(new Request(`http://push.example.com${path}`));
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: "unauthorized" });
      const wrong = await exports.default.fetch(new Request(`http://push.example.com${path}`, { headers: { authorization: "Bearer nope" } }));
      expect(wrong.status).toBe(401);
    }
  });

  it("the dashboard, metrics, pool stream and origin-id lookup answer only on admin hosts", async () => {
    const app = createApp();
    const pools = JSON.stringify({ pools: [{ name: "default", hosts: ["push.example.com"], origins: [{ id: "o1", url: "http://127.0.0.1:9001" }] }] });
    for (const path of ["/_edge/dashboard", "/_edge/metrics", "/_edge/admin/pool/stream", "/_edge/admin/sessions?origin_session_id=x"]) {
      const res = await app.request(`http://push.example.com${path}`, { headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } }, { ...env, POOLS: pools });
      expect(res.status, path).toBe(403);
      expect(await res.json()).toMatchObject({ error: "forbidden" });
    }
  });

  it("/_edge/metrics answers in Prometheus text with the admin token", async () => {
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => Response.json({ state: "active", sessions: 0, capacity: 1000 }));
    const res = await exports.default.fetch(new Request("http://push.example.com/_edge/metrics", { headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    const text = await res.text();
    expect(text).toContain("# TYPE edge_sessions_placed_total counter");
    expect(text).toMatch(/^edge_origin_healthy\{origin="o1",pool="default"\} 1$/m);
  });

  it("/_edge/dashboard is a data-free page whose only script carries the response's CSP nonce", async () => {
    const res = await exports.default.fetch(new Request("http://push.example.com/_edge/dashboard"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    const csp = res.headers.get("content-security-policy") ?? "";
    const nonce = /script-src 'nonce-([0-9a-f]+)'/.exec(csp)?.[1];
    expect(nonce).toBeDefined();
    const html = await res.text();
    expect(html).toContain(`<script nonce="${nonce}">`);
    expect(html).not.toContain("{{NONCE}}");
    expect(html).not.toContain(env.ADMIN_TOKEN);
    expect(html).not.toMatch(/<script[^>]+src=/);
  });
});
