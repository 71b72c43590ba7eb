/**
 * Published prices the cost model uses, each with where it was read and when. Marginal
 * prices (above a plan's included amounts): a fleet large enough to matter is past them.
 * Changing a price here changes every figure `npm run cost` prints; docs/cost.md lists
 * the same table.
 */

export interface Price {
  readonly usd: number;
  /** What `usd` buys. */
  readonly per: string;
  readonly source: string;
}

export const PRICES_READ_ON = "2026-12-03";

export const PRICES = {
  /** Workers Standard: requests beyond the 10 M a month included. */
  workerRequest: { usd: 0.3 / 1e6, per: "request", source: "https://developers.cloudflare.com/workers/platform/pricing/ (Workers Paid, Standard: 10 M requests/month included, +$0.30 per million)" },
  /** Workers Standard: CPU time beyond the 30 M ms a month included; wall-clock time is not billed. */
  workerCpuMs: { usd: 0.02 / 1e6, per: "CPU ms", source: "https://developers.cloudflare.com/workers/platform/pricing/ (30 M CPU ms/month included, +$0.02 per million CPU ms)" },
  /** Durable Objects requests (HTTP, RPC sessions, WebSocket messages at 20:1, alarms) beyond 1 M a month. */
  objectRequest: { usd: 0.15 / 1e6, per: "request", source: "https://developers.cloudflare.com/durable-objects/platform/pricing/ (1 M requests included, +$0.15 per million)" },
  /** Durable Objects duration beyond 400,000 GB-s a month; billed at 128 MB per object while active or idle but unable to hibernate. */
  objectGbS: { usd: 12.5 / 1e6, per: "GB-s", source: "https://developers.cloudflare.com/durable-objects/platform/pricing/ (400,000 GB-s included, +$12.50 per million GB-s)" },
  /** AWS Application Load Balancer, us-east-1. */
  albHour: { usd: 0.0225, per: "ALB-hour", source: "https://aws.amazon.com/elasticloadbalancing/pricing/ (Application Load Balancer, US East (N. Virginia))" },
  albLcuHour: { usd: 0.008, per: "LCU-hour", source: "https://aws.amazon.com/elasticloadbalancing/pricing/ (LCU: 25 new connections/s, 3,000 active connections/min, 1 GB/h processed for EC2/IP targets, 1,000 rule evaluations/s — the highest dimension is billed)" },
  /** Cloudflare Load Balancing: subscription with 2 endpoints, plus per extra endpoint. */
  cfLbMonth: { usd: 5, per: "load balancer-month with 2 endpoints", source: "https://www.cloudflare.com/application-services/products/load-balancing/ (add-on; usage is authoritative DNS queries for the balanced host names)" },
  cfLbEndpointMonth: { usd: 5, per: "extra endpoint-month", source: "https://www.cloudflare.com/application-services/products/load-balancing/" },
  cfLbDnsQuery: { usd: 0.5 / 500_000, per: "DNS query (beyond the 500,000 a month included)", source: "https://developers.cloudflare.com/support/account-management-billing/billing-add-on-service/ (Load Balancing usage = DNS queries); $0.50 per 500,000" },
} as const satisfies Record<string, Price>;

/** Durable Objects: incoming WebSocket messages are billed 20 to one request. */
export const WS_MESSAGES_PER_OBJECT_REQUEST = 20;
/** Durable Objects duration is billed at 128 MB per object, whatever it uses. */
export const OBJECT_GB = 0.128;
/** ALB: one LCU covers this much of each dimension (us-east-1). */
export const ALB_LCU = { newConnectionsPerSecond: 25, activeConnectionsPerMinute: 3_000, gbPerHour: 1 } as const;
/** Proxied (orange-cloud) load-balanced records are answered with a 5-minute TTL: at most 12 resolutions a client-hour. */
export const CF_LB_MAX_DNS_QUERIES_PER_CLIENT_HOUR = 12;
export const HOURS_PER_MONTH = 730;
