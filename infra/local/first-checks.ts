/**
 * `npm start`'s one-time word on origins that fail their first health checks: a new user
 * who points the edge at their own servers (`--origins`) learns at once, in the check's
 * own words, why S requests would get 503 — instead of finding out from a client. Watches
 * the pool view (bounded) until every origin has been checked, then stops.
 */

interface OriginHealth {
  readonly id: string;
  readonly url: string;
  readonly healthy: boolean;
  readonly checkedAt: number;
  readonly lastError: string | null;
  readonly check?: string;
}

const POLL_MS = 500;
export const FIRST_CHECKS_WATCH_MS = 30_000;

/** Resolves when every origin has had its first check (or the watch timed out); never throws. */
export async function reportFirstChecks(edgeUrl: string, adminToken: string, write: (line: string) => void, watchMs = FIRST_CHECKS_WATCH_MS): Promise<void> {
  const told = new Set<string>();
  const until = Date.now() + watchMs;
  while (Date.now() < until) {
    const origins = await poolOrigins(edgeUrl, adminToken);
    if (origins !== undefined) {
      for (const o of origins) {
        if (o.checkedAt === 0 || o.healthy || told.has(o.id)) continue;
        told.add(o.id);
        write(`push-edge: origin ${o.id} (${o.url}) fails its health checks: ${o.lastError ?? "no reason given"}${o.check === undefined ? "" : `\n  its check: ${o.check} — see README "Health checks"`}`);
      }
      if (origins.length > 0 && origins.every((o) => o.checkedAt !== 0)) return;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function poolOrigins(edgeUrl: string, adminToken: string): Promise<OriginHealth[] | undefined> {
  try {
    const res = await fetch(`${edgeUrl}/_edge/admin/pool`, { headers: { authorization: `Bearer ${adminToken}` }, signal: AbortSignal.timeout(5_000) });
    if (!res.ok) return undefined;
    const body = (await res.json()) as { pools?: Array<{ origins?: OriginHealth[] }> };
    return (body.pools ?? []).flatMap((p) => p.origins ?? []);
  } catch {
    return undefined;
  }
}
