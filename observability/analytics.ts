/**
 * Workers Analytics Engine, when a dataset is bound as `METRICS` (wrangler.toml
 * `[[analytics_engine_datasets]] binding = "METRICS"`): one data point per S / CR request,
 * for queries over time that the coordinator's running totals cannot answer. Without the
 * binding this is a no-op. Writing is fire-and-forget by design of the API (no await).
 *
 * Data point layout (SQL API columns):
 *   index1  pool
 *   blob1   kind (S, CR, first_message, stateless)   blob2 origin ("" if none)   blob3 status class
 *   blob4   outcome (placed, relayed, refused reason, token failure reason, relay error kind)
 *   double1 HTTP status                   double2 latency in seconds
 */

export interface AnalyticsPoint {
  readonly pool: string;
  readonly kind: string;
  readonly origin: string | undefined;
  readonly status: number;
  readonly outcome: string;
  readonly seconds: number;
}

/** The part of an Analytics Engine dataset binding this uses. */
export interface AnalyticsDataset {
  writeDataPoint(point: { indexes?: string[]; blobs?: string[]; doubles?: number[] }): void;
}

function datasetOf(env: Env): AnalyticsDataset | undefined {
  // Optional binding: not in wrangler.toml by default, so not in the generated Env type.
  const binding = (env as unknown as { METRICS?: unknown }).METRICS;
  if (typeof binding !== "object" || binding === null) return undefined;
  const write = (binding as { writeDataPoint?: unknown }).writeDataPoint;
  return typeof write === "function" ? (binding as AnalyticsDataset) : undefined;
}

export function writeAnalyticsPoint(env: Env, point: AnalyticsPoint): void {
  const dataset = datasetOf(env);
  if (dataset === undefined) return;
  try {
    dataset.writeDataPoint({
      indexes: [point.pool],
      blobs: [point.kind, point.origin ?? "", statusClass(point.status), point.outcome],
      doubles: [point.status, point.seconds],
    });
  } catch {
    // Analytics must never fail a request.
  }
}

export function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}
