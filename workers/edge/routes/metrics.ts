/**
 * GET /_edge/metrics (admin host and token, as the admin API): the whole edge's metrics in Prometheus text
 * format. Counters and histograms are the pool coordinators' fleet-wide totals (every
 * isolate's flushed deltas, this isolate's flushed first); gauges are the coordinators'
 * current view of each origin.
 */
import { Hono } from "hono";
import { coordinatorStub } from "../../../durable-objects/pool/stub.ts";
import { configHash } from "../balance/pool-view.ts";
import { flushMetrics } from "../../../observability/metrics.ts";
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus, type GaugeSample } from "../../../observability/prometheus.ts";
import type { CounterSample, HistogramSample } from "../../../observability/series.ts";
import { edgeRuntime } from "../runtime.ts";
import { adminAuth, adminHost } from "./admin.ts";
import type { AdminEnv } from "./admin-audit.ts";
import { describePool } from "./admin-pools.ts";

export function metricsRoutes(): Hono<AdminEnv> {
  const metrics = new Hono<AdminEnv>();
  metrics.use("*", adminHost());
  metrics.use("*", adminAuth());
  metrics.get("/", async function prometheusMetrics(c) {
    await flushMetrics(c.env);
    const counters: CounterSample[] = [];
    const histograms: HistogramSample[] = [];
    const gauges: GaugeSample[] = [];
    for (const pool of edgeRuntime(c.env).config.pools) {
      const coordinator = coordinatorStub(c.env, pool.name);
      const [totals, snapshot] = await Promise.all([coordinator.metricTotals(), coordinator.snapshot(pool, configHash(pool))]);
      counters.push(...totals.counters);
      histograms.push(...totals.histograms);
      for (const o of describePool(pool, snapshot).origins) {
        const labels = { pool: pool.name, origin: o.id };
        gauges.push({ name: "edge_sessions", labels: { ...labels, state: o.state }, value: o.sessions });
        gauges.push({ name: "edge_origin_healthy", labels, value: o.healthy ? 1 : 0 });
        gauges.push({ name: "edge_origin_capacity", labels, value: o.capacity });
      }
    }
    return c.body(renderPrometheus({ counters, histograms, gauges }), 200, {
      "content-type": PROMETHEUS_CONTENT_TYPE,
      "cache-control": "no-store",
    });
  });
  return metrics;
}
