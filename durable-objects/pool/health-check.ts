/**
 * One active health check of an origin's `/health`: any 2xx JSON object is an answer;
 * `state` (draining/blocked), `sessions`, `capacity` and `instance` are read when present. A
 * PROXY-only origin is checked over its own transport (a plain fetch would be refused).
 */
import type { HealthFetch } from "../../relay/transport/tcp-health-fetch.ts";
import { originTransport } from "../../relay/transport/origin-transport.ts";
import type { TransportSettings } from "../../relay/transport/settings.ts";

const MAX_INSTANCE_CHARS = 200;

export type HealthReport =
  | {
      readonly ok: true;
      readonly state: "active" | "draining" | "blocked";
      readonly sessions?: number;
      readonly capacity?: number;
      /** Names one run of the origin process: a new value means it restarted and lost its sessions. */
      readonly instance?: string;
    }
  | { readonly ok: false; readonly error: string };

export async function checkHealth(
  url: string,
  transport: TransportSettings,
  timeoutMs: number,
  fetcher: HealthFetch = fetch,
): Promise<HealthReport> {
  try {
    const check = originTransport(transport).healthFetch(fetcher);
    const res = await check(`${url}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return { ok: false, error: `health check answered ${res.status}` };
    // A body that times out or is not a JSON object is its own failure: "answered 200"
    // would send an operator looking at the wrong thing.
    let body: unknown;
    try {
      body = await res.json();
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
      return { ok: false, error: timedOut ? `health check body not received within ${timeoutMs} ms` : `health check answered ${res.status} with a body that is not JSON` };
    }
    if (typeof body !== "object" || body === null) return { ok: false, error: `health check answered ${res.status} with JSON that is not an object` };
    const report = body as { state?: unknown; sessions?: unknown; capacity?: unknown; instance?: unknown };
    return {
      ok: true,
      state: report.state === "draining" || report.state === "blocked" ? report.state : "active",
      ...(typeof report.sessions === "number" && report.sessions >= 0 ? { sessions: report.sessions } : {}),
      ...(typeof report.capacity === "number" && report.capacity > 0 ? { capacity: report.capacity } : {}),
      ...(typeof report.instance === "string" && report.instance !== "" && report.instance.length <= MAX_INSTANCE_CHARS ? { instance: report.instance } : {}),
    };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
}
