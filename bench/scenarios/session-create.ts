/**
 * Session creation: `POST /session` (an S request) with `concurrency` requests in flight
 * until `total` sessions are made or `budgetMs` passes, whichever comes first. Reports the
 * rate of successful creations, each request's latency and the hop's CPU per session
 * (bench/lib/hop-cpu.ts). A 201 only counts when the
 * target's affinity for the session is present (for the edge: a token). `warmup`
 * sessions are made first and not counted, and their objects are let go to sleep before
 * the count starts (bench/lib/object-settle.ts: else workerd closes their databases inside
 * the measured window). The warm-up is what a long-lived isolate has behind it: in three
 * rounds with 32 warm-up sessions (`npm run bench -- --scenario session-create --target
 * floor-object --target edge --rounds 3 --prebuilt --no-save`) the edge's first round ran
 * at 0.56× `floor-object`'s rate with twice its CPU per session, its second and third at
 * 0.93× and 0.80×: a one-round run measured the edge's S path warming up (it runs far more
 * JavaScript than the floor's), not the S path.
 */
import { ErrorLog, type Metric, type Mode, type PreparedScenario, type Scenario, type TargetResult } from "../scenario.ts";
import { summarize } from "../stats.ts";
import { monoMs } from "../lib/clock.ts";
import { keepAliveAgent } from "../lib/http.ts";
import { createSession } from "../lib/session.ts";
import { inParallel } from "../lib/time.ts";
import type { Target } from "../targets/target.ts";
import { hopCpu } from "../lib/hop-cpu.ts";
import { hopDatabases, settleObjects, settledLine } from "../lib/object-settle.ts";

export interface SessionCreateParams {
  readonly total: number;
  readonly concurrency: number;
  readonly warmup: number;
  /** Longest wait for the warm-up's objects to go to sleep before counting (local workerd: ~10–20 s); 0: no wait. */
  readonly warmupSettleMs: number;
  readonly budgetMs: number;
  readonly timeoutMs: number;
}

export const SESSION_CREATE_PARAMS: Record<Mode, SessionCreateParams> = {
  full: { total: 1_000, concurrency: 16, warmup: 1_000, warmupSettleMs: 30_000, budgetMs: 10_000, timeoutMs: 5_000 },
  quick: { total: 200, concurrency: 16, warmup: 16, warmupSettleMs: 0, budgetMs: 3_000, timeoutMs: 5_000 },
};

export const sessionCreate: Scenario = {
  name: "session-create",
  title: "Session creation (POST /session)",
  prepare(mode): PreparedScenario {
    const p = SESSION_CREATE_PARAMS[mode];
    return {
      params: { ...p },
      summary: `${p.total} sessions or ${p.budgetMs / 1000} s, whichever first; ${p.concurrency} in flight (+${p.warmup} warm-up)`,
      run: (target, progress) => runSessionCreate(target, p, progress),
    };
  },
};

async function runSessionCreate(target: Target, p: SessionCreateParams, progress: (line: string) => void): Promise<TargetResult> {
  const errors = new ErrorLog();
  const latencies: number[] = [];
  const agent = keepAliveAgent(p.concurrency);
  const cpu = hopCpu(target);
  let cpuPerSession: Metric[] = [];
  let elapsedMs = 0;

  try {
    const databases = hopDatabases(target.pids?.() ?? []);
    const asleep = databases() ?? 0;
    let warm = 0;
    await inParallel(p.concurrency, async () => {
      while (warm < p.warmup) {
        warm += 1;
        const created = await createSession(target, agent, p.timeoutMs);
        if (!created.ok) errors.add(`warm-up: ${created.reason}`);
      }
    });
    const settled = p.warmupSettleMs > 0 ? await settleObjects(databases, asleep, p.warmupSettleMs) : undefined;
    if (settled !== undefined && settled.waitedMs > 0) progress(settledLine(target.name, "warm-up objects", settled, p.warmupSettleMs));

    cpu.start();
    const started = monoMs();
    const deadline = started + p.budgetMs;
    let issued = 0;
    await inParallel(p.concurrency, async () => {
      while (issued < p.total && monoMs() < deadline) {
        issued += 1;
        const t0 = monoMs();
        const created = await createSession(target, agent, p.timeoutMs);
        if (created.ok) latencies.push(monoMs() - t0);
        else errors.add(created.reason);
      }
    });
    elapsedMs = monoMs() - started;
    cpuPerSession = cpu.perOp(latencies.length, "hop CPU per session");
    progress(`${target.name}: ${latencies.length} sessions in ${(elapsedMs / 1000).toFixed(1)} s`);
  } finally {
    agent.destroy();
  }

  return {
    target: target.name,
    metrics: [
      { kind: "rate", key: "rate", label: "sessions/s", unit: "/s", value: elapsedMs > 0 ? (latencies.length * 1000) / elapsedMs : Number.NaN },
      { kind: "latency", key: "latency", label: "create latency", summary: summarize(latencies) },
      // Read after the last request ended, so every session counted was paid for in the window.
      ...cpuPerSession,
    ],
    errorCount: errors.count,
    errors: errors.messages(),
    elapsedMs,
  };
}
