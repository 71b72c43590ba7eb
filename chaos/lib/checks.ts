/**
 * The after-the-fact checks of a chaos or soak run:
 *   - misrouted CR: a request for a session reached an origin that did not create it
 *     (from each origin's own /_debug/requests log — the ground truth of what landed where);
 *   - session leaks: once every session has had time to expire, session objects still
 *     holding a live session (admin API record state) or still counted on an origin
 *     (the registry, as the pool view shows it).
 */
import { sessionKeyOf, sleep } from "./http.ts";

interface LoggedRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly session?: string;
}

export type OriginLog = { readonly origin: string; readonly entries: readonly LoggedRequest[] };

export async function fetchOriginLog(origin: string, adminUrl: string): Promise<OriginLog> {
  const res = await fetch(`${adminUrl}/_debug/requests`, { signal: AbortSignal.timeout(10_000) });
  return { origin, entries: (await res.json()) as LoggedRequest[] };
}

/** CR requests that landed on an origin which never created their session. */
export function misroutedRequests(logs: readonly OriginLog[]): Array<{ origin: string; path: string; status: number }> {
  const out: Array<{ origin: string; path: string; status: number }> = [];
  for (const log of logs) {
    const created = new Set<string>();
    for (const e of log.entries) {
      const isCreate = (e.method === "POST" && e.path === "/session" && e.status === 201) || (e.path === "/ws" && e.status === 101);
      if (isCreate && e.session !== undefined) created.add(e.session);
    }
    for (const e of log.entries) {
      const id = /^\/session\/([^/]+)/.exec(e.path)?.[1];
      if (id !== undefined && !created.has(id)) out.push({ origin: log.origin, path: e.path, status: e.status });
    }
  }
  return out;
}

interface PoolView {
  pools: Array<{ origins: Array<{ id: string; sessions: number }> }>;
}

async function admin<T>(edgeUrl: string, adminToken: string, path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${edgeUrl}/_edge/admin${path}`, {
    headers: { authorization: `Bearer ${adminToken}` },
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** Sessions the pool view counts on each origin (from the session registry). */
export async function poolSessionCounts(edgeUrl: string, adminToken: string): Promise<Map<string, number>> {
  const { body } = await admin<PoolView>(edgeUrl, adminToken, "/pool");
  const counts = new Map<string, number>();
  for (const pool of body.pools) for (const o of pool.origins) counts.set(o.id, (counts.get(o.id) ?? 0) + o.sessions);
  return counts;
}

export interface SessionLeakReport {
  /** Session records checked through the admin API. */
  readonly checked: number;
  /** Of those, still `active` although their lifetime is over. */
  readonly activeRecords: number;
  /** Sessions the registry still counts on some origin. */
  readonly registered: number;
  readonly leaked: number;
}

/**
 * Waits (bounded by `waitMs`) for the registry to count no session anywhere, then reads
 * the records of `tokens`' sessions (at most `sample` of them, 8 at a time).
 */
export async function sessionLeaks(
  edgeUrl: string,
  adminToken: string,
  tokens: readonly string[],
  options: { waitMs: number; sample?: number },
): Promise<SessionLeakReport> {
  const deadline = Date.now() + options.waitMs;
  let registered = Number.POSITIVE_INFINITY;
  while (true) {
    const counts = await poolSessionCounts(edgeUrl, adminToken).catch(() => undefined);
    if (counts !== undefined) registered = [...counts.values()].reduce((a, b) => a + b, 0);
    if (registered === 0 || Date.now() >= deadline) break;
    await sleep(500);
  }
  const keys = [...new Set(tokens.map(sessionKeyOf).filter((k): k is string => k !== undefined))];
  const picked = options.sample !== undefined && keys.length > options.sample ? shuffle(keys).slice(0, options.sample) : keys;
  let active = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < picked.length) {
        const sk = picked[next++] as string;
        const res = await admin<{ session?: { state?: string } }>(edgeUrl, adminToken, `/sessions/${sk}`).catch(() => undefined);
        // 404: the record is gone already. Anything but "ended" on a live record is a leak.
        if (res !== undefined && res.status === 200 && res.body.session?.state !== "ended") active += 1;
      }
    }),
  );
  const reg = Number.isFinite(registered) ? registered : -1;
  return { checked: picked.length, activeRecords: active, registered: reg, leaked: Math.max(active, reg < 0 ? 1 : reg) };
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}
