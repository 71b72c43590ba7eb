/**
 * Prometheus text exposition format 0.0.4: `# HELP` and `# TYPE` once per metric, then
 * its samples; counters end in `_total`; histograms as cumulative `_bucket{le=...}`
 * (ending with `le="+Inf"`), `_sum` and `_count`.
 */
import { METRICS, type MetricName } from "./catalogue.ts";
import { LATENCY_BUCKETS, type CounterSample, type HistogramSample, type Labels } from "./series.ts";

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export interface GaugeSample {
  readonly name: string;
  readonly labels: Labels;
  readonly value: number;
}

export interface Exposition {
  readonly counters: readonly CounterSample[];
  readonly histograms: readonly HistogramSample[];
  readonly gauges: readonly GaugeSample[];
}

/** Label values escape backslash, double quote and newline. */
function labelText(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (extra !== undefined) pairs.push(extra);
  if (pairs.length === 0) return "";
  const escape = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
  return `{${pairs.map(([k, v]) => `${k}="${escape(v)}"`).join(",")}}`;
}

function numberText(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Number.POSITIVE_INFINITY) return "+Inf";
  if (n === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(n);
}

export function renderPrometheus(exposition: Exposition): string {
  const lines: string[] = [];
  for (const name of Object.keys(METRICS) as MetricName[]) {
    const meta = METRICS[name];
    const samples: string[] = [];
    if (meta.type === "histogram") {
      for (const h of exposition.histograms.filter((s) => s.name === name)) {
        let cumulative = 0;
        LATENCY_BUCKETS.forEach((le, i) => {
          cumulative += h.counts[i] ?? 0;
          samples.push(`${name}_bucket${labelText(h.labels, ["le", String(le)])} ${cumulative}`);
        });
        samples.push(`${name}_bucket${labelText(h.labels, ["le", "+Inf"])} ${h.count}`);
        samples.push(`${name}_sum${labelText(h.labels)} ${numberText(h.sum)}`);
        samples.push(`${name}_count${labelText(h.labels)} ${h.count}`);
      }
    } else {
      const source = meta.type === "counter" ? exposition.counters : exposition.gauges;
      for (const s of source.filter((x) => x.name === name)) samples.push(`${name}${labelText(s.labels)} ${numberText(s.value)}`);
    }
    // A metric with no samples yet still announces itself, so dashboards find its name.
    lines.push(`# HELP ${name} ${meta.help}`, `# TYPE ${name} ${meta.type}`, ...samples);
  }
  return `${lines.join("\n")}\n`;
}
