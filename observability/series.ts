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
  /**
   * Series keys by the series as given (labels in their own order): an edge isolate counts
   * the same few series on every request, and sorting and serialising the labels each time
   * was most of what a request's metrics cost: `finish` per CR 47–51 µs before, 20–22 µs
   * after (`node tools/profile/cpu-profile.ts --workload cr --count 3000 --top 0 --inclusive
   * finish`, two profiles of each build). Lives as long as these sums (an isolate's delta: a
   * few seconds), so it holds no more series than they do.
   */
  readonly #keys = new Map<string, string>();

  count(name: string, labels: Labels, n: number): void {
    const key = this.#key(name, labels);
    const c = this.counters.get(key);
    if (c === undefined) this.counters.set(key, { name, labels, value: n });
    else c.value += n;
  }

  observe(name: string, labels: Labels, seconds: number): void {
    const found = LATENCY_BUCKETS.findIndex((le) => seconds <= le);
    const bucket = found === -1 ? LATENCY_BUCKETS.length : found;
    const h = this.#histogram(name, labels, this.#key(name, labels));
    h.counts[bucket] = (h.counts[bucket] ?? 0) + 1;
    h.sum += seconds;
    h.count++;
  }

  addHistogram(h: HistogramSample): void {
    const mine = this.#histogram(h.name, h.labels, this.#key(h.name, h.labels));
    for (let i = 0; i < mine.counts.length; i++) mine.counts[i] = (mine.counts[i] ?? 0) + (h.counts[i] ?? 0);
    mine.sum += h.sum;
    mine.count += h.count;
  }

  #histogram(name: string, labels: Labels, key: string): { counts: number[]; sum: number; count: number } {
    let mine = this.histograms.get(key);
    if (mine === undefined) {
      mine = { name, labels, counts: new Array<number>(LATENCY_BUCKETS.length + 1).fill(0), sum: 0, count: 0 };
      this.histograms.set(key, mine);
    }
    return mine;
  }

  /** seriesKey, looked up by a key that needs no sorting (length-prefixed: no two series share one). */
  #key(name: string, labels: Labels): string {
    let quick = `${name.length}:${name}`;
    for (const label in labels) {
      const value = labels[label] ?? "";
      quick += `${label.length}:${label}${value.length}:${value}`;
    }
    let key = this.#keys.get(quick);
    if (key === undefined) {
      key = seriesKey(name, labels);
      this.#keys.set(quick, key);
    }
    return key;
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
