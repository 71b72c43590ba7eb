/**
 * Every metric the edge exports, with its Prometheus type and help text: the one list the
 * renderer, the README table and the tests agree on.
 */

export type MetricType = "counter" | "gauge" | "histogram";

export const METRICS = {
  edge_requests_total: { type: "counter", help: "Session requests handled by the edge, by kind (S, CR, first_message, stateless: a tokenless request that opens no session) and status class." },
  edge_request_duration_seconds: { type: "histogram", help: "Time from request to response headers at the edge, by kind." },
  edge_sessions_placed_total: { type: "counter", help: "S requests placed on an origin (new sessions)." },
  edge_admission_rejections_total: { type: "counter", help: "S requests refused: rate_limit (admission control, 503), no_origin (503) or network_budget (the client network's S budget, 429)." },
  edge_token_failures_total: { type: "counter", help: "CR requests refused because their affinity token failed verification, by reason." },
  edge_relay_errors_total: { type: "counter", help: "Requests the edge could not relay to an origin, by kind." },
  edge_sessions_ended_total: { type: "counter", help: "Sessions the pool coordinator ended on purpose, by reason (drain, rebalance)." },
  edge_sessions: { type: "gauge", help: "Live sessions on each origin, by the origin's operator state." },
  edge_origin_healthy: { type: "gauge", help: "1 when the origin passes its health checks, else 0." },
  edge_origin_capacity: { type: "gauge", help: "Sessions the origin may hold (configured or reported, the smaller)." },
} as const satisfies Record<string, { type: MetricType; help: string }>;

export type MetricName = keyof typeof METRICS;
