/**
 * Balance behind a carrier NAT: `clients` long-lived WebSocket sessions where `natShare`
 * of them come from one source address and every other client from its own (distinct
 * 127.x.y.1 addresses: different /24s, since nginx's `ip_hash` hashes only the first three
 * octets). HAProxy balances by `balance source`, nginx by `ip_hash` — the classic way to
 * keep a client on one origin without cookies — and push-edge as always (its affinity is
 * the token, so the address plays no part). Reports max/mean sessions per origin.
 * Fresh origins and a fresh hop per column (see lib/balance-world.ts).
 */
import { ErrorLog, type Mode, type PreparedScenario, type Scenario, type TargetResult } from "../scenario.ts";
import { balanceClients, fdShortfall, hopLog, startBalanceWorld } from "../lib/balance-world.ts";
import { monoMs } from "../lib/clock.ts";
import { closeAll, connectAll, HeldClient, maxOverMean, originCounts } from "../lib/held-client.ts";
import type { Target } from "../targets/target.ts";

export interface NatBalanceParams {
  readonly clients: number;
  readonly natShare: number;
  readonly origins: number;
  readonly parallel: number;
  readonly timeoutMs: number;
}

export const NAT_BALANCE_PARAMS: Record<Mode, NatBalanceParams> = {
  full: { clients: 3_000, natShare: 0.4, origins: 3, parallel: 32, timeoutMs: 15_000 },
  quick: { clients: 150, natShare: 0.4, origins: 3, parallel: 16, timeoutMs: 15_000 },
};

/** The carrier NAT's one public address. */
const NAT_ADDRESS = "127.200.0.1";

/** Client i's own address: 127.(1 + i/250).(1 + i%250).1 — a distinct /24 per client. */
export function clientAddress(i: number): string {
  return `127.${1 + Math.floor(i / 250)}.${1 + (i % 250)}.1`;
}

export const natBalance: Scenario = {
  name: "nat-balance",
  title: "Balance with a carrier NAT (max/mean sessions per origin; 1.00 is perfect)",
  prepare(mode): PreparedScenario {
    const p = { ...NAT_BALANCE_PARAMS[mode], clients: balanceClients(NAT_BALANCE_PARAMS[mode].clients) };
    return {
      params: { ...p },
      summary: `${p.clients} WebSocket sessions on ${p.origins} origins, ${Math.round(p.natShare * 100)}% from one address; HAProxy balance source, nginx ip_hash`,
      run: (target, progress) => runNatBalance(target, p, progress),
    };
  },
};

async function runNatBalance(target: Target, p: NatBalanceParams, progress: (line: string) => void): Promise<TargetResult> {
  if (target.inFrontOf === undefined || target.floor === true) return { target: target.name, metrics: [], errorCount: 0, errors: [], elapsedMs: 0 };
  const started = monoMs();
  const errors = new ErrorLog();
  const world = await startBalanceWorld(target, p.origins, { log: hopLog }, hopLog);
  const clients: HeldClient[] = [];
  try {
    const hopTarget = world.hop.target;
    const shortfall = fdShortfall(hopTarget, p.clients);
    if (shortfall !== undefined) {
      progress(`${target.name}: ${shortfall}`);
      return { target: target.name, metrics: [], errorCount: 1, errors: [shortfall], elapsedMs: monoMs() - started };
    }
    const base = hopTarget.sourceBase;
    const natClients = Math.round(p.clients * p.natShare);
    for (let i = 0; i < p.clients; i++) {
      const localAddress = i < natClients ? NAT_ADDRESS : clientAddress(i);
      clients.push(new HeldClient(hopTarget, { ...(base === undefined ? {} : { base }), localAddress, onError: (m) => errors.add(m) }));
    }
    // Interleave NAT and other clients, as they would arrive.
    const order = clients.map((_, i) => i).sort((a, b) => (a * 7919) % p.clients - (b * 7919) % p.clients);
    await connectAll(clients, order, {
      parallel: p.parallel,
      timeoutMs: p.timeoutMs,
      onError: (m) => errors.add(m),
      onProgress: (tried) => progress(`${target.name}: ${tried}/${clients.length} clients tried, ${((monoMs() - started) / 1000).toFixed(0)} s`),
    });
    const counts = originCounts(clients);
    const ids = world.origins.map((o) => o.id);
    const ratio = maxOverMean(counts, ids);
    progress(`${target.name}: ${JSON.stringify(Object.fromEntries(counts))} → max/mean ${ratio.toFixed(3)}`);
    return {
      target: target.name,
      metrics: [
        { kind: "rate", key: "max-mean", label: "max/mean sessions per origin", unit: "×", value: ratio },
        { kind: "rate", key: "held", label: "sessions held", unit: "", value: [...counts.values()].reduce((a, b) => a + b, 0) },
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
