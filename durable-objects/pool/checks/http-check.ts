/**
 * The `http` check: GET the configured path; the status must be in `expect.status`
 * (200–399 unless set), the body must contain `expect.body` when set. A body that is a
 * JSON object is also read as push-edge's report (state, sessions, capacity, instance),
 * so an origin may offer both a plain check and the richer contract on one URL.
 */
import type { HealthSettings, StatusRange } from "../../../config/health-settings.ts";
import { readBoundedText } from "../../../protocols/health-probe.ts";
import type { HealthFetch } from "./origin-access.ts";
import { describeError, jsonReport, type HealthReport } from "./report.ts";

/** Health answers are short; more than this is not read (and not needed to match a body text). */
export const MAX_HEALTH_BODY_BYTES = 64 * 1024;

export type HttpAnswer =
  | { readonly answered: true; readonly status: number; readonly text: string }
  | { readonly answered: false; readonly stage: "request" | "body"; readonly status?: number; readonly timedOut: boolean; readonly text: string };

/** One GET, headers and (bounded) body within `timeoutMs`. Never throws. */
export async function httpGet(url: string, path: string, timeoutMs: number, fetcher: HealthFetch): Promise<HttpAnswer> {
  const signal = AbortSignal.timeout(timeoutMs);
  let res: Response;
  try {
    res = await fetcher(`${url}${path}`, { signal });
  } catch (err) {
    return { answered: false, stage: "request", ...describeError(err, timeoutMs) };
  }
  try {
    return { answered: true, status: res.status, text: await readBoundedText(res, MAX_HEALTH_BODY_BYTES) };
  } catch (err) {
    return { answered: false, stage: "body", status: res.status, ...describeError(err, timeoutMs) };
  }
}

export function statusText(ranges: readonly StatusRange[]): string {
  return ranges.map((r) => (r.min === r.max ? String(r.min) : `${r.min}-${r.max}`)).join(", ");
}

function inRanges(status: number, ranges: readonly StatusRange[]): boolean {
  return ranges.some((r) => status >= r.min && status <= r.max);
}

/** Why a GET got no answer, in words an operator can act on. */
export function unansweredError(url: string, path: string, answer: Extract<HttpAnswer, { answered: false }>, timeoutMs: number): string {
  if (answer.stage === "body") return `GET ${path} answered ${answer.status ?? "?"} but its body did not arrive within ${timeoutMs} ms`;
  if (answer.timedOut) {
    return `GET ${path} timed out after ${timeoutMs} ms — the server may not serve ${path}; set health.type${path === "/health" ? "" : " or health.path"}`;
  }
  return `GET ${path} ${answer.text} — is the server running and listening at ${url}?`;
}

export async function httpCheck(url: string, h: HealthSettings, fetcher: HealthFetch): Promise<HealthReport> {
  const answer = await httpGet(url, h.path, h.timeoutMs, fetcher);
  if (!answer.answered) return { ok: false, error: unansweredError(url, h.path, answer, h.timeoutMs) };
  if (!inRanges(answer.status, h.expectStatus)) {
    const hint = answer.status === 404 ? ` — the server does not serve ${h.path}; set health.path, or health.type "tcp"` : "";
    return { ok: false, error: `GET ${h.path} answered ${answer.status}, expected ${statusText(h.expectStatus)}${hint}` };
  }
  if (h.expectBody !== undefined && !answer.text.includes(h.expectBody)) {
    return { ok: false, error: `GET ${h.path} answered ${answer.status} but its body does not contain ${JSON.stringify(h.expectBody)} (it begins ${JSON.stringify(answer.text.slice(0, 60))})` };
  }
  const report = jsonReport(answer.text);
  return { ok: true, state: "active", ...report, note: `GET ${h.path} answered ${answer.status}${report === undefined ? "" : " (JSON report)"}` };
}
