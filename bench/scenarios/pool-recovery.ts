/**
 * Pool recovery, on a stack of its own (the edge only: a direct client has no pool):
 * N WebSocket sessions on 2 origins; a third origin joins and the edge rebalances on its
 * own, at its configured rate — how long until the spread is within tolerance; then one
 * origin is killed — how long each of its clients takes to have a new session on a
 * survivor (p50/p99), and until all have.
 */
import { Fleet } from "../../infra/local/session-fleet.ts";
import { startOriginProcess } from "../../infra/local/origin-process.ts";
import { startStack, type RunningStack } from "../../infra/local/stack.ts";
import { ErrorLog, type Mode, type PreparedScenario, type Scenario, type TargetResult } from "../scenario.ts";
import { summarize } from "../stats.ts";
import { monoMs } from "../lib/clock.ts";
import type { Target } from "../targets/target.ts";

export interface PoolRecoveryParams {
  readonly sessions: number;
  readonly rebalancePerSecond: number;
  readonly tolerance: number;
  readonly healthIntervalMs: number;
  readonly timeoutMs: number;
}

export const POOL_RECOVERY_PARAMS: Record<Mode, PoolRecoveryParams> = {
  full: { sessions: 120, rebalancePerSecond: 10, tolerance: 1.15, healthIntervalMs: 500, timeoutMs: 90_000 },
  quick: { sessions: 60, rebalancePerSecond: 10, tolerance: 1.15, healthIntervalMs: 500, timeoutMs: 60_000 },
};

const ORIGIN_ARGS = ["--interval-ms", "0", "--capacity", "100000", "--session-idle-ms", "600000"];

export const poolRecovery: Scenario = {
  name: "pool-recovery",
  title: "Pool recovery (edge only: rebalance after a join, re-establish after a kill)",
  prepare(mode): PreparedScenario {
    const p = POOL_RECOVERY_PARAMS[mode];
    return {
      params: { ...p },
      summary: `${p.sessions} WebSocket sessions on 2 origins, a 3rd joins (rebalance ≤ ${p.rebalancePerSecond}/s, tolerance ${p.tolerance}); then one is killed; health every ${p.healthIntervalMs} ms, rise=fall=1`,
      run: (target, progress) => (target.name === "edge" ? runPoolRecovery(target, p, progress) : notApplicable(target)),
    };
  },
};

async function notApplicable(target: Target): Promise<TargetResult> {
  return { target: target.name, metrics: [], errorCount: 0, errors: [], elapsedMs: 0 };
}

async function runPoolRecovery(target: Target, p: PoolRecoveryParams, progress: (line: string) => void): Promise<TargetResult> {
  const errors = new ErrorLog();
  const started = monoMs();
  let stack: RunningStack | undefined;
  let fleet: Fleet | undefined;
  const extra: Array<{ stop(): Promise<void> }> = [];
  try {
    stack = await startStack({
      port: 0,
      originBasePort: 0,
      originCount: 2,
      originArgs: ORIGIN_ARGS,
      prebuilt: true,
      poolSettings: {
        health: { intervalMs: p.healthIntervalMs, timeoutMs: Math.floor(p.healthIntervalMs * 0.8), rise: 1, fall: 1 },
        slowStartSeconds: 0,
        rebalance: { enabled: true, tolerance: p.tolerance, sessionsPerSecond: p.rebalancePerSecond, minSessionsPerOrigin: 5 },
      },
    });
    const s = stack;
    fleet = new Fleet(s.edgeUrl);
    const f = fleet;
    await f.open(p.sessions);
    progress(`${target.name}: ${p.sessions} sessions open on ${[...f.counts().keys()].join(", ")}; adding o3`);

    const third = await startOriginProcess("o3", ["--listen", "combined=127.0.0.1:0", ...ORIGIN_ARGS]);
    extra.push(third);
    const joined = Date.now();
    const res = await fetch(`${s.edgeUrl}/_edge/admin/pools/default/origins`, {
      method: "POST",
      headers: { authorization: `Bearer ${s.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ id: "o3", url: third.url }),
    });
    if (res.status !== 201) errors.add(`adding o3 answered ${res.status}`);
    await res.body?.cancel();
    const balanced = (): boolean => {
      const counts = [...f.counts().values()];
      const total = counts.reduce((a, b) => a + b, 0);
      return counts.length === 3 && total === p.sessions && Math.max(...counts) <= (total / 3) * p.tolerance;
    };
    await f.until(balanced, p.timeoutMs, "the pool to rebalance");
    const rebalanceMs = Date.now() - joined;
    progress(`${target.name}: balanced ${JSON.stringify(Object.fromEntries(f.counts()))} after ${(rebalanceMs / 1000).toFixed(1)} s; killing o1`);

    const victim = s.processes.find((o) => o.id === "o1");
    const lost = f.members.filter((m) => m.origins.at(-1) === "o1");
    const killedAt = Date.now();
    await victim?.stop();
    await f.until(() => lost.every((m) => m.socket !== undefined && (m.openedAt.at(-1) ?? 0) > killedAt), p.timeoutMs, "o1's clients to come back");
    const delays = lost.map((m) => (m.openedAt.at(-1) ?? killedAt) - killedAt);
    const allBack = Math.max(...delays, 0);
    if (f.members.some((m) => m.origins.at(-1) === "o1")) errors.add("a client is still on the killed origin");
    return {
      target: target.name,
      metrics: [
        { kind: "rate", key: "rebalance", label: "time to rebalance after a join ms", unit: "ms", value: rebalanceMs },
        { kind: "latency", key: "reestablish", label: `re-established after a kill (${lost.length} clients)`, summary: summarize(delays) },
        { kind: "rate", key: "all-back", label: "all killed origin's clients back ms", unit: "ms", value: allBack },
      ],
      errorCount: errors.count,
      errors: errors.messages(),
      elapsedMs: monoMs() - started,
    };
  } finally {
    await fleet?.close();
    await stack?.close();
    await Promise.all(extra.map((o) => o.stop()));
  }
}
