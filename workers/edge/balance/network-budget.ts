/**
 * The per-client-network S budget (config/network-budget.ts), spent before an S request
 * costs anything — no session object, no origin request, no token. Counted by the Workers
 * Rate Limiting binding S_BUDGET (wrangler.toml), keyed by pool and client network, which
 * runs in local workerd (Miniflare) as in production; there its counts are per Cloudflare
 * location and approximate, which is what an abuse budget needs — not an exact quota.
 *
 * Without the binding (an environment that lacks it) or without a client address, no
 * budget applies: the edge never refuses a session because it cannot count.
 */
import type { PoolConfig } from "../../../config/config.ts";
import { BUDGET_UNITS, BUDGET_WINDOW_SECONDS, type NetworkBudget } from "../../../config/network-budget.ts";
import { errorMessage, log } from "../../../observability/log.ts";
import type { Failure } from "../../../protocols/adapter.ts";
import { clientAddress, ipv6Groups } from "../token/network.ts";

let warnedUnbound = false;

/** Spends one S request of the client network's budget; the refusal to send when it is spent. */
export async function spendNetworkBudget(env: Env, pool: PoolConfig, request: Request, failure: Failure): Promise<Response | undefined> {
  const budget = pool.settings.networkBudget;
  if (budget.sessions === 0) return undefined;
  const limiter = (env as Partial<Env>).S_BUDGET;
  if (limiter === undefined) {
    if (!warnedUnbound) log("network_budget_unbound", { pool: pool.name, message: "no S_BUDGET rate-limit binding: S requests are not budgeted per network" }, "error");
    warnedUnbound = true;
    return undefined;
  }
  const ip = clientAddress(request);
  const network = ip === undefined ? undefined : clientNetwork(ip, budget);
  if (network === undefined) return undefined;
  let success: boolean;
  try {
    ({ success } = await limiter.limit({ key: `${pool.name}|${network}`, delta: Math.floor(BUDGET_UNITS / budget.sessions) }));
  } catch (err) {
    // A runtime whose binding takes no `delta` (older local workerd) cannot count budgets
    // per pool: no budget, said once, rather than refusing sessions it cannot count.
    if (!warnedUnbound) log("network_budget_unavailable", { pool: pool.name, message: errorMessage(err) }, "error");
    warnedUnbound = true;
    return undefined;
  }
  if (success) return undefined;
  return failure(
    429,
    "too_many_sessions",
    `your network (${network}) has opened ${budget.sessions} sessions in the last ${BUDGET_WINDOW_SECONDS} s, its budget; retry shortly`,
    { "retry-after": String(BUDGET_WINDOW_SECONDS) },
  );
}

/** The client's network: its address cut to the budget's prefix ("203.0.113.0/24", "2001:db8:1::/48"). */
export function clientNetwork(ip: string, budget: Pick<NetworkBudget, "ipv4Prefix" | "ipv6Prefix">): string | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  const octets = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(mapped?.[1] ?? ip);
  if (octets !== null) {
    const bytes = octets.slice(1, 5).map(Number);
    if (bytes.some((n) => n > 255)) return undefined;
    return `${masked(bytes, 8, budget.ipv4Prefix).join(".")}/${budget.ipv4Prefix}`;
  }
  const groups = ipv6Groups(ip);
  if (groups === undefined) return undefined;
  return `${masked(groups, 16, budget.ipv6Prefix).map((g) => g.toString(16)).join(":")}/${budget.ipv6Prefix}`;
}

/** Keeps the first `prefix` bits of `parts` (each `width` bits wide), zeroing the rest. */
function masked(parts: number[], width: number, prefix: number): number[] {
  return parts.map((part, i) => {
    const keep = Math.max(0, Math.min(width, prefix - i * width));
    return keep === 0 ? 0 : part & ~((1 << (width - keep)) - 1) & ((1 << width) - 1);
  });
}
