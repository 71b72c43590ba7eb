/**
 * One origin restarts under long-lived sessions: `clients` WebSocket sessions spread over
 * `origins` origins; origin o1 is stopped (its clients reconnect at once, through the same
 * balancer, to the survivors) and started again on its port after `downMs`. Measures the
 * time from the stop until max/mean sessions per origin is ≤ `goal` again. push-edge
 * rebalances (ends sessions on the crowded origins at its configured rate; those clients
 * reconnect and are placed on the emptiest origin); a classic balancer never moves a
 * connection that is up, so it reports "never" within `windowMs`.
 * Fresh origins and a fresh hop per column (see lib/balance-world.ts).
 */
import { ErrorLog, type Mode, type PreparedScenario, type Scenario, type TargetResult } from "../scenario.ts";
import { balanceClients, fdShortfall, hopLog, startBalanceWorld } from "../lib/balance-world.ts";
import { monoMs } from "../lib/clock.ts";
import { closeAll, connectAll, HeldClient, maxOverMean, originCounts } from "../lib/held-client.ts";
import { sleep } from "../lib/time.ts";
import type { Target } from "../targets/target.ts";

export interface OriginRestartParams {
  readonly clients: number;
  readonly origins: number;
  readonly downMs: number;
  readonly goal: number;
  readonly windowMs: number;
  /** push-edge's rebalancing rate (pool-wide sessions ended per second). */
  readonly rebalancePerSecond: number;
  readonly parallel: number;
  readonly timeoutMs: number;
}

export const ORIGIN_RESTART_PARAMS: Record<Mode, OriginRestartParams> = {
  full: { clients: 3_000, origins: 3, downMs: 1_000, goal: 1.1, windowMs: 60_000, rebalancePerSecond: 100, parallel: 32, timeoutMs: 15_000 },
  quick: { clients: 150, origins: 3, downMs: 1_000, goal: 1.1, windowMs: 20_000, rebalancePerSecond: 50, parallel: 16, timeoutMs: 15_000 },
};

export const originRestart: Scenario = {
  name: "origin-restart",
  title: "One origin restarts under long-lived sessions (time until max/mean ≤ goal)",
  prepare(mode): PreparedScenario {
    const p = { ...ORIGIN_RESTART_PARAMS[mode], clients: balanceClients(ORIGIN_RESTART_PARAMS[mode].clients) };
    return {
      params: { ...p },
      summary: `${p.clients} WebSocket sessions on ${p.origins} origins; o1 down ${p.downMs} ms; goal max/mean ≤ ${p.goal} within ${p.windowMs / 1000} s; push-edge rebalances ≤ ${p.rebalancePerSecond}/s (tolerance 1.05, health every 500 ms, no slow start)`,
      run: (target, progress) => runOriginRestart(target, p, progress),
    };
  },
};

async function runOriginRestart(target: Target, p: OriginRestartParams, progress: (line: string) => void): Promise<TargetResult> {
  if (target.inFrontOf === undefined || target.floor === true) return { target: target.name, metrics: [], errorCount: 0, errors: [], elapsedMs: 0 };
  const started = monoMs();
  const errors = new ErrorLog();
  const poolSettings = {
    health: { intervalMs: 500, timeoutMs: 400, rise: 1, fall: 1 },
    slowStartSeconds: 0,
    rebalance: { enabled: true, tolerance: 1.05, sessionsPerSecond: p.rebalancePerSecond, minSessionsPerOrigin: 5 },
  };
  const world = await startBalanceWorld(target, p.origins, { poolSettings, log: hopLog }, hopLog);
  const clients: HeldClient[] = [];
  try {
    const hopTarget = world.hop.target;
    const shortfall = fdShortfall(hopTarget, p.clients);
    if (shortfall !== undefined) {
      progress(`${target.name}: ${shortfall}`);
      return { target: target.name, metrics: [], errorCount: 1, errors: [shortfall], elapsedMs: monoMs() - started };
    }
    for (let i = 0; i < p.clients; i++) clients.push(new HeldClient(hopTarget, { onError: (m) => errors.add(m) }));
    await connectAll(clients, clients.map((_, i) => i), {
      parallel: p.parallel,
      timeoutMs: p.timeoutMs,
      onError: (m) => errors.add(m),
      onProgress: (tried) => progress(`${target.name}: ${tried}/${clients.length} clients tried, ${((monoMs() - started) / 1000).toFixed(0)} s`),
    });
    const ids = world.origins.map((o) => o.id);
    const before = maxOverMean(originCounts(clients), ids);
    progress(`${target.name}: ${JSON.stringify(Object.fromEntries(originCounts(clients)))} (max/mean ${before.toFixed(3)}); restarting o1`);

    const t0 = monoMs();
    await world.restart(0, p.downMs);
    // Balanced again: every client holds a session and the spread is within the goal.
    let reachedMs = Number.POSITIVE_INFINITY;
    let last = Number.NaN;
    let nextReport = t0 + 5_000;
    while (monoMs() - t0 < p.windowMs) {
      if (monoMs() >= nextReport) {
        nextReport += 5_000;
        progress(`${target.name}: +${((monoMs() - t0) / 1000).toFixed(0)} s ${JSON.stringify(Object.fromEntries(originCounts(clients)))}`);
      }
      const counts = originCounts(clients);
      const held = [...counts.values()].reduce((a, b) => a + b, 0);
      last = maxOverMean(counts, ids);
      if (held === clients.length && last <= p.goal) {
        reachedMs = monoMs() - t0;
        break;
      }
      await sleep(100);
    }
    const final = originCounts(clients);
    progress(
      `${target.name}: ${Number.isFinite(reachedMs) ? `max/mean ≤ ${p.goal} after ${(reachedMs / 1000).toFixed(1)} s` : `never within ${p.windowMs / 1000} s`}: ${JSON.stringify(Object.fromEntries(final))}`,
    );
    return {
      target: target.name,
      metrics: [
        { kind: "rate", key: "balanced-after", label: `s until max/mean ≤ ${p.goal} (∞ = never within ${p.windowMs / 1000} s)`, unit: "s", value: reachedMs / 1000 },
        { kind: "rate", key: "max-mean-end", label: "max/mean at the end", unit: "×", value: last },
        { kind: "rate", key: "reconnects", label: "client reconnects (restart + rebalancing)", unit: "", value: clients.reduce((a, c) => a + c.reconnects, 0) },
      ],
      errorCount: errors.count,
      errors: errors.messages(),
      elapsedMs: monoMs() - started,
    };
  } finally {
    await closeAll(clients);
    await world.close();
  }
}
