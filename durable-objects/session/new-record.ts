/**
 * A live session's record as the edge's create route describes it: what the route leaves
 * out (a route from an older edge) falls back to what such an edge meant.
 */
import { DEFAULT_LIMITS } from "../../config/limits.ts";
import { FETCH_TRANSPORT, transportFromWire } from "../../relay/transport/settings.ts";
import type { CreateRoute } from "./route.ts";
import { RECORD_GRACE_MS, type SessionRecord } from "./store.ts";

export function newRecord(route: CreateRoute, adapter: string, relayMode: SessionRecord["relayMode"], originSessionId: string | null): SessionRecord {
  return {
    sk: route.sk,
    pool: route.pool,
    adapter,
    originId: route.origin.id,
    originUrl: route.origin.url,
    originTransport: transportFromWire(route.origin) ?? FETCH_TRANSPORT,
    originSessionId,
    state: "active",
    createdAt: Date.now(),
    expiresAt: route.expiresAt,
    endedReason: null,
    retentionMs: route.retentionMs ?? RECORD_GRACE_MS,
    idleMs: route.idleMs ?? 0,
    relayMode,
    limits: route.limits ?? DEFAULT_LIMITS,
  };
}
