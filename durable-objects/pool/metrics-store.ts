/**
 * The pool's fleet-wide metric totals, kept by its coordinator: the sum of every edge
 * isolate's deltas (observability/metrics.ts) and the coordinator's own
 * counts (sessions ended by drain and rebalancing). Persisted in the coordinator's SQLite,
 * so totals survive the object's eviction — Prometheus counters must not fall back to
 * zero just because the pool was quiet.
 *
 * Its table is created with IF NOT EXISTS rather than as a migration of the origin
 * table's schema: the two are independent, and either can be added to without the other.
 */
import { SeriesSums, seriesKey, type Labels, type MetricsDelta } from "../../observability/series.ts";

export class MetricsStore {
  readonly #sql: SqlStorage;
  readonly #sums = new SeriesSums();

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    sql.exec("CREATE TABLE IF NOT EXISTS metric_series (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    for (const row of sql.exec<{ value: string }>("SELECT value FROM metric_series")) {
      const series = JSON.parse(row.value) as { name: string; labels: Labels; value?: number; counts?: number[]; sum?: number; count?: number };
      if (series.counts !== undefined) {
        this.#sums.addHistogram({ name: series.name, labels: series.labels, counts: series.counts, sum: series.sum ?? 0, count: series.count ?? 0 });
      } else {
        this.#sums.count(series.name, series.labels, series.value ?? 0);
      }
    }
  }

  /** Adds a delta and writes back only the series it touched. */
  add(delta: MetricsDelta): void {
    this.#sums.merge(delta);
    for (const c of delta.counters) this.#save(seriesKey(c.name, c.labels));
    for (const h of delta.histograms) this.#save(seriesKey(h.name, h.labels));
  }

  count(name: string, labels: Labels, n: number): void {
    if (n === 0) return;
    this.add({ counters: [{ name, labels, value: n }], histograms: [] });
  }

  totals(): MetricsDelta {
    return this.#sums.toDelta();
  }

  #save(key: string): void {
    const series = this.#sums.counters.get(key) ?? this.#sums.histograms.get(key);
    if (series === undefined) return;
    this.#sql.exec("INSERT OR REPLACE INTO metric_series (key, value) VALUES (?, ?)", key, JSON.stringify(series));
  }
}
