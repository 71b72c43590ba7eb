/**
 * The internal contract between the edge Worker and a session's Durable Object: one
 * header carrying what the edge decided (placement on S, the verified claims on CR).
 * The edge strips any client-supplied copy before it adds its own, so a client can never
 * forge a route.
 */
import { transportFromWire, type TransportWire } from "../../relay/transport/settings.ts";
import { DEFAULT_LIMITS, resolveLimits, type Limits } from "../../config/limits.ts";
import { isRelayMode, type RelayMode } from "../../config/relay-mode.ts";


export const ROUTE_HEADER = "x-push-edge-route";
export { FAILURE_HEADER } from "../../protocols/origin-response.ts";

/** The placed origin: where it is and, when not plain fetch, how to reach it (transport/settings.ts). */
export interface RouteOrigin extends TransportWire {
  readonly id: string;
  readonly url: string;
}

export interface CreateRoute {
  readonly op: "create";
  readonly sk: string;
  readonly pool: string;
  readonly adapter: string;
  readonly origin: RouteOrigin;
  /** When the session's token expires (ms since epoch); the record is kept until then. */
  readonly expiresAt: number;
  /**
   * When the edge ends the session (ms since epoch) with the protocol's reconnect signal
   * and reason `expired`: the pool's maximum session duration plus jitter. Absent: never.
   */
  readonly endAt?: number;
  /** How long the record outlives the session's end; absent: the legacy grace (store.ts). */
  readonly retentionMs?: number;
  /** No connection and no CR for this long ends the session; absent or 0: never. */
  readonly idleMs?: number;
  /** The new session's token: protocols that name the session in their traffic use it there. */
  readonly token: string;
  /** The client opted in to receive its token as the first WebSocket message. */
  readonly announce: boolean;
  /**
   * The pool's relay mode and input limits at creation: the session object keeps them in
   * its record (it never reads the edge's configuration). Absent (a route from an edge
   * older than relay modes): `object`, which such an edge can serve, and the defaults.
   */
  readonly relay?: RelayMode;
  readonly limits?: Limits;
  /** The isolate that sent the request (workers/edge/legs/): where an admitted leg runs. */
  readonly isolate?: string;
  /**
   * The edge read the whole body within the pool's deadline and sends it from memory, so
   * the object does not hold it to that deadline again: a stream through JavaScript per S
   * request (`boundRelayBody` ≈ 445 µs per S before, 11 µs after, `node
   * tools/profile/cpu-profile.ts --workload create --count 1000 --top 0 --inclusive
   * boundRelayBody`). Absent: the body may still be arriving from the client.
   */
  readonly bodyHeld?: boolean;
}

export interface RelayRoute {
  readonly op: "relay";
  readonly sk: string;
  readonly pool: string;
  /** Origin id the verified token names; must match the record. */
  readonly origin: string;
  /** The verified token, the client's name for the session. */
  readonly token: string;
  /**
   * The isolate that sent the request, which can pump a long-lived leg itself (relay
   * mode `edge`). Absent: the object relays everything, whatever its mode.
   */
  readonly isolate?: string;
  /**
   * The adapter expects the origin to hold this request open (Classification's
   * `longLived`: a `stream` or a `poll`), so in mode `edge` the object admits it as a leg
   * of that kind and the isolate fetches it itself. Mode `object` ignores it.
   */
  readonly leg?: "stream" | "poll";
}

export type Route = CreateRoute | RelayRoute;

export function encodeRoute(route: Route): string {
  return JSON.stringify(route);
}

/** Parses the route header; undefined if absent or not a route (never trusts shape blindly). */
export function decodeRoute(value: string | null): Route | undefined {
  if (value === null) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (typeof raw !== "object" || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  if (typeof r.sk !== "string" || typeof r.pool !== "string") return undefined;
  if (typeof r.token !== "string") return undefined;
  if (r.isolate !== undefined && typeof r.isolate !== "string") return undefined;
  if (r.op === "relay" && typeof r.origin === "string" && (r.leg === undefined || r.leg === "stream" || r.leg === "poll")) return r as unknown as RelayRoute;
  if (
    r.op === "create" &&
    typeof r.announce === "boolean" &&
    typeof r.adapter === "string" &&
    typeof r.expiresAt === "number" &&
    (r.endAt === undefined || (typeof r.endAt === "number" && Number.isFinite(r.endAt))) &&
    (r.retentionMs === undefined || isDuration(r.retentionMs)) &&
    (r.idleMs === undefined || isDuration(r.idleMs)) &&
    typeof r.origin === "object" &&
    r.origin !== null &&
    typeof (r.origin as Record<string, unknown>).id === "string" &&
    typeof (r.origin as Record<string, unknown>).url === "string" &&
    transportFromWire(r.origin as Record<string, unknown>) !== undefined &&
    (r.relay === undefined || isRelayMode(r.relay)) &&
    (r.bodyHeld === undefined || typeof r.bodyHeld === "boolean")
  ) {
    const route = r as unknown as CreateRoute;
    return r.limits === undefined ? route : { ...route, limits: limitsFromWire(r.limits) };
  }
  return undefined;
}

function isDuration(value: unknown): boolean {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}

/** Limits as the route carries them; anything unreadable falls back to the defaults. */
export function limitsFromWire(raw: unknown): Limits {
  if (raw === undefined) return DEFAULT_LIMITS;
  try {
    return resolveLimits(raw, "route.limits");
  } catch {
    return DEFAULT_LIMITS;
  }
}
