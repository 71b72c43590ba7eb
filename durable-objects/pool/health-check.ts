/**
 * One active health check of one origin, of the kind its settings name (config/
 * health-settings.ts): `http`, `tcp`, a protocol's `probe`, `none` (passive only), or the
 * default `auto` — a TCP connect, which any server passes while it listens, plus
 * push-edge's JSON `/health` for origins that serve it (their state, load and restarts).
 * Each kind is one entry of CHECKS: the coordinator never switches on a kind's name.
 */
import type { HealthCheckType, HealthSettings } from "../../config/health-settings.ts";
import type { HealthProbe } from "../../protocols/health-probe.ts";
import { healthProbeFor } from "../../protocols/health-probes.ts";
import { httpCheck, httpGet, unansweredError } from "./checks/http-check.ts";
import type { OriginAccess } from "./checks/origin-access.ts";
import { describeError, jsonReport, type HealthReport } from "./checks/report.ts";
import { tcpCheck } from "./checks/tcp-check.ts";

export type { HealthReport } from "./checks/report.ts";

/** How often `auto` asks an origin that did not serve JSON at /health whether it does now. */
export const REPROBE_JSON_MS = 60_000;

/** What `auto` learnt of an origin: whether it serves push-edge's JSON report, and when it last asked. */
export interface AutoMemory {
  json: boolean | undefined;
  askedAt: number;
}

export interface CheckContext {
  readonly url: string;
  readonly settings: HealthSettings;
  readonly access: OriginAccess;
  readonly memory: AutoMemory;
  readonly now: number;
  readonly probe: (protocol: string) => HealthProbe | undefined;
}

type Check = (ctx: CheckContext) => Promise<HealthReport>;

const CHECKS: Readonly<Record<HealthCheckType, Check>> = {
  auto: autoCheck,
  http: (ctx) => httpCheck(ctx.url, ctx.settings, ctx.access.fetch),
  tcp: (ctx) => tcpCheck(ctx.url, ctx.settings, ctx.access.connect),
  probe: probeCheck,
  none: async () => ({ ok: true, state: "active", note: "passive only (health.type none): real traffic marks it down" }),
};

export function checkHealth(ctx: Omit<CheckContext, "probe"> & { probe?: CheckContext["probe"] }): Promise<HealthReport> {
  return CHECKS[ctx.settings.type]({ ...ctx, probe: ctx.probe ?? healthProbeFor });
}

/**
 * The default. Every round: a TCP connect; and GET /health while the origin serves (or may
 * serve) push-edge's JSON report — asked again every REPROBE_JSON_MS after it did not.
 * An origin that serves the report is judged by it (as before: 2xx JSON object, its state
 * and load read); any other origin by the connect, so an unchanged server passes.
 */
async function autoCheck(ctx: CheckContext): Promise<HealthReport> {
  const { url, settings: h, memory, now } = ctx;
  const ask = memory.json !== false || now - memory.askedAt >= REPROBE_JSON_MS;
  // An origin known to serve the report is asked for it alone; otherwise both at once.
  const connect = () => tcpCheck(url, h, ctx.access.connect);
  const asking = ask ? httpGet(url, h.path, h.timeoutMs, ctx.access.fetch) : undefined;
  const connecting = memory.json === true ? undefined : connect();
  const answer = await asking;
  if (answer !== undefined) {
    const report = answer.answered && answer.status >= 200 && answer.status < 300 ? jsonReport(answer.text) : undefined;
    if (report !== undefined) {
      memory.json = true;
      memory.askedAt = now;
      return { ok: true, ...report, note: `push-edge JSON report at ${h.path}` };
    }
    if (memory.json === true && !(answer.answered && answer.status >= 200 && answer.status < 300)) {
      // It served the report before: a report that fails now is the origin's own word.
      return { ok: false, error: answer.answered ? `GET ${h.path} answered ${answer.status} (it served push-edge's JSON report before)` : unansweredError(url, h.path, answer, h.timeoutMs) };
    }
  }
  const tcp = await (connecting ?? connect());
  if (answer !== undefined) {
    // Answered without the report, or a server that does not answer that path at all
    // (a Socket.IO server leaves it hanging): judged by the connect from now on.
    if (tcp.ok) {
      memory.json = false;
      memory.askedAt = now;
    }
  }
  if (!tcp.ok) return tcp;
  return { ...tcp, note: `TCP connect accepted; no push-edge JSON report at ${h.path} (set health.type for another check)` };
}

async function probeCheck(ctx: CheckContext): Promise<HealthReport> {
  const protocol = ctx.settings.protocol ?? "";
  const probe = ctx.probe(protocol);
  if (probe === undefined) return { ok: false, error: `no ${JSON.stringify(protocol)} probe exists; set health.protocol or another health.type` };
  const timeoutMs = ctx.settings.timeoutMs;
  try {
    const result = await probe(ctx.url, ctx.access.fetch, AbortSignal.timeout(timeoutMs));
    return result.ok ? { ok: true, state: "active", note: `${protocol} probe answered` } : result;
  } catch (err) {
    const { timedOut, text } = describeError(err, timeoutMs);
    return {
      ok: false,
      error: timedOut ? `${protocol} probe timed out after ${timeoutMs} ms — is the server running, and does it speak ${protocol} at this URL?` : `${protocol} probe ${text} — is the server running and listening at ${ctx.url}?`,
    };
  }
}
