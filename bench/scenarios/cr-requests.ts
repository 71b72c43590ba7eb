/**
 * Small CR requests: `connections` sessions, then one keep-alive connection per session
 * sending `GET /session/:id` (a small JSON record) back to back with the target's affinity
 * (HAProxy's cookie, nginx's hashed cookie, push-edge's token → the session DO) for
 * `durationMs`. Reports requests per second (the "small GET req/s, 50 keep-alive conns"),
 * their latency, and the hop's CPU per request over the same window (bench/lib/hop-cpu.ts).
 */
import { ErrorLog, type Metric, type Mode, type PreparedScenario, type Scenario, type TargetResult } from "../scenario.ts";
import { summarize } from "../stats.ts";
import { monoMs } from "../lib/clock.ts";
import { httpRequest, keepAliveAgent } from "../lib/http.ts";
import { createSession, type SessionRef } from "../lib/session.ts";
import { errorMessage, inParallel } from "../lib/time.ts";
import type { Target } from "../targets/target.ts";
import { hopCpu } from "../lib/hop-cpu.ts";

export interface CrRequestsParams {
  readonly connections: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly timeoutMs: number;
}

export const CR_REQUESTS_PARAMS: Record<Mode, CrRequestsParams> = {
  full: { connections: 50, warmupMs: 1_000, durationMs: 5_000, timeoutMs: 5_000 },
  quick: { connections: 10, warmupMs: 300, durationMs: 1_000, timeoutMs: 5_000 },
};

export const crRequests: Scenario = {
  name: "cr-requests",
  title: "Small CR requests (GET /session/:id, keep-alive)",
  prepare(mode): PreparedScenario {
    const p = CR_REQUESTS_PARAMS[mode];
    return {
      params: { ...p },
      summary: `${p.connections} sessions × 1 keep-alive connection each, back-to-back GETs for ${p.durationMs / 1000} s after ${p.warmupMs} ms warm-up`,
      run: (target, progress) => runCrRequests(target, p, progress),
    };
  },
};

async function runCrRequests(target: Target, p: CrRequestsParams, progress: (line: string) => void): Promise<TargetResult> {
  const errors = new ErrorLog();
  const started = monoMs();
  const latencies: number[] = [];
  const createAgent = keepAliveAgent(8);
  // One agent per session: exactly one keep-alive connection each.
  const agents = Array.from({ length: p.connections }, () => keepAliveAgent(1));
  let measuredMs = 0;
  const cpu = hopCpu(target);
  let cpuPerRequest: Metric[] = [];
  /** Requests that ended inside the measured window (what its CPU paid for). */
  let completedInWindow = 0;
  try {
    const sessions: SessionRef[] = [];
    let next = 0;
    await inParallel(8, async () => {
      while (next < p.connections) {
        next += 1;
        const created = await createSession(target, createAgent, p.timeoutMs);
        if (created.ok) sessions.push(created.session);
        else errors.add(created.reason);
      }
    });
    progress(`${target.name}: ${sessions.length}/${p.connections} sessions`);
    const measureFrom = monoMs() + p.warmupMs;
    const end = measureFrom + p.durationMs;
    // The CPU window is the measured one: read when it opens and when it closes (a request
    // that ends after `end` is not counted, so its CPU must not be either).
    const windowStart = setTimeout(() => cpu.start(), Math.max(0, measureFrom - monoMs()));
    const windowEnd = setTimeout(() => {
      cpuPerRequest = cpu.perOp(completedInWindow, "hop CPU per request");
    }, Math.max(0, end - monoMs()));
    await Promise.all(
      sessions.map(async (s, i) => {
        const agent = agents[i] ?? createAgent;
        while (monoMs() < end) {
          const t0 = monoMs();
          try {
            const res = await httpRequest(`${s.affinity.base}/session/${s.id}`, { headers: { ...s.affinity.headers }, agent, timeoutMs: p.timeoutMs });
            const t1 = monoMs();
            if (t1 >= measureFrom && t1 <= end) completedInWindow += 1;
            if (res.status !== 200) errors.add(`GET /session/:id: HTTP ${res.status} ${res.body.slice(0, 80)}`);
            else if (t0 >= measureFrom && t1 <= end) latencies.push(t1 - t0);
          } catch (err) {
            errors.add(`GET /session/:id: ${errorMessage(err)}`);
          }
        }
      }),
    );
    clearTimeout(windowStart);
    clearTimeout(windowEnd);
    measuredMs = p.durationMs;
    progress(`${target.name}: ${latencies.length} requests measured`);
  } finally {
    createAgent.destroy();
    for (const a of agents) a.destroy();
  }
  return {
    target: target.name,
    metrics: [
      { kind: "rate", key: "rate", label: "requests/s", unit: "/s", value: measuredMs > 0 ? (latencies.length * 1000) / measuredMs : Number.NaN },
      { kind: "latency", key: "latency", label: "request latency", summary: summarize(latencies) },
      ...cpuPerRequest,
    ],
    errorCount: errors.count,
    errors: errors.messages(),
    elapsedMs: monoMs() - started,
  };
}
