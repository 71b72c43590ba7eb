/**
 * The shape metrics travel in, from an edge isolate to its pool coordinator and from
 * the coordinator to the renderer: labelled counter values and latency histograms, plain
 * JSON so they cross Durable Object RPC unchanged. Merging is addition, so deltas from any
 * number of isolates, in any order, sum to the fleet-wide totals.
 */

export type Labels = Readonly<Record<string, string>>;

export interface CounterSample {
  readonly name: string;
  readonly labels: Labels;
  readonly value: number;
}

export interface HistogramSample {
  readonly name: string;
  readonly labels: Labels;
  /** Observations per bucket (not cumulative), one more than LATENCY_BUCKETS: the last is +Inf. */
  readonly counts: readonly number[];
  readonly sum: number;
  readonly count: number;
}

export interface MetricsDelta {
  readonly counters: readonly CounterSample[];
  readonly histograms: readonly HistogramSample[];
}

/** Upper bounds (seconds) of the latency buckets: sub-millisecond relays to slow origins. */
export const LATENCY_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One series' identity: its name and labels, label order not mattering. */
export function seriesKey(name: string, labels: Labels): string {
  return JSON.stringify([name, Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]);
}

/** Sums of counters and histograms, keyed by series. */
export class SeriesSums {
  readonly counters = new Map<string, { name: string; labels: Labels; value: number }>();
  readonly histograms = new Map<string, { name: string; labels: Labels; counts: number[]; sum: number; count: number }>();

  count(name: string, labels: Labels, n: number): void {
    const key = seriesKey(name, labels);
    const c = this.counters.get(key);
    if (c === undefined) this.counters.set(key, { name, labels, value: n });
    else c.value += n;
  }

  observe(name: string, labels: Labels, seconds: number): void {
    const counts = LATENCY_BUCKETS.map(() => 0).concat(0);
    const i = LATENCY_BUCKETS.findIndex((le) => seconds <= le);
    counts[i === -1 ? LATENCY_BUCKETS.length : i] = 1;
    this.addHistogram({ name, labels, counts, sum: seconds, count: 1 });
  }

  addHistogram(h: HistogramSample): void {
    const key = seriesKey(h.name, h.labels);
    const mine = this.histograms.get(key);
    if (mine === undefined) {
      this.histograms.set(key, { name: h.name, labels: h.labels, counts: [...h.counts], sum: h.sum, count: h.count });
      return;
    }
    for (let i = 0; i < mine.counts.length; i++) mine.counts[i] = (mine.counts[i] ?? 0) + (h.counts[i] ?? 0);
    mine.sum += h.sum;
    mine.count += h.count;
  }

  merge(delta: MetricsDelta): void {
    for (const c of delta.counters) this.count(c.name, c.labels, c.value);
    for (const h of delta.histograms) this.addHistogram(h);
  }

  get empty(): boolean {
    return this.counters.size === 0 && this.histograms.size === 0;
  }

  toDelta(): MetricsDelta {
    return {
      counters: [...this.counters.values()].map((c) => ({ ...c })),
      histograms: [...this.histograms.values()].map((h) => ({ ...h, counts: [...h.counts] })),
    };
  }
}
