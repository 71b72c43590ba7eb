/**
 * What one active check found. `ok` reports may carry what push-edge's own JSON `/health`
 * says (state, sessions, capacity, instance) and a short note of what was checked, which
 * the pool view shows next to the origin.
 */

const MAX_INSTANCE_CHARS = 200;

export type HealthReport =
  | {
      readonly ok: true;
      readonly state: "active" | "draining" | "blocked";
      readonly sessions?: number;
      readonly capacity?: number;
      /** Names one run of the origin process: a new value means it restarted and lost its sessions. */
      readonly instance?: string;
      /** What was checked, in words (e.g. "TCP connect; no JSON at /health"). */
      readonly note?: string;
    }
  | { readonly ok: false; readonly error: string };

export type OkReport = Extract<HealthReport, { ok: true }>;

/** Reads push-edge's JSON report from a body; undefined when the body is not a JSON object. */
export function jsonReport(text: string): Omit<OkReport, "ok" | "note"> | undefined {
  if (!text.trimStart().startsWith("{")) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  const report = body as { state?: unknown; sessions?: unknown; capacity?: unknown; instance?: unknown };
  return {
    state: report.state === "draining" || report.state === "blocked" ? report.state : "active",
    ...(typeof report.sessions === "number" && Number.isFinite(report.sessions) && report.sessions >= 0 ? { sessions: Math.floor(report.sessions) } : {}),
    ...(typeof report.capacity === "number" && Number.isFinite(report.capacity) && report.capacity > 0 ? { capacity: Math.floor(report.capacity) } : {}),
    ...(typeof report.instance === "string" && report.instance !== "" && report.instance.length <= MAX_INSTANCE_CHARS ? { instance: report.instance } : {}),
  };
}

/** The check's error in words: a timeout says so, with the bound; anything else keeps the runtime's message. */
export function describeError(err: unknown, timeoutMs: number): { timedOut: boolean; text: string } {
  const name = err instanceof Error ? err.name : "";
  const message = err instanceof Error ? err.message : String(err);
  const timedOut = name === "TimeoutError" || name === "AbortError" || /timed out/i.test(message);
  return { timedOut, text: timedOut ? `timed out after ${timeoutMs} ms` : `failed: ${message}` };
}
