/**
 * TLCP update delivery delay: many real Lightstreamer clients (lightstreamer-client-node,
 * WS-STREAMING) subscribe to the reference origin's DEMO `clock` item; for every update,
 * delay = the client's receive time (in the listener callback) − the update's `ts` (the
 * origin's `Date.now()` when it wrote it; same machine clock). Updates in the first
 * `warmupMs` after a client's subscription are not counted. `ts` is whole milliseconds,
 * so every delay is overstated by 0–1 ms — equally in every column.
 */
import { LightstreamerClient, Subscription } from "lightstreamer-client-node";
import { ErrorLog, type Mode, type PreparedScenario, type Scenario, type TargetResult } from "../scenario.ts";
import { summarize } from "../stats.ts";
import { calibrate, epochMs, monoMs } from "../lib/clock.ts";
import { sleep } from "../lib/time.ts";
import type { Target } from "../targets/target.ts";

export interface TlcpParams {
  readonly clients: number;
  /** How long updates are measured once every client is subscribed. */
  readonly measureMs: number;
  readonly warmupMs: number;
  /** Longest wait for all clients to connect and subscribe. */
  readonly timeoutMs: number;
}

export const TLCP_PARAMS: Record<Mode, TlcpParams> = {
  full: { clients: 200, measureMs: 5_000, warmupMs: 1_000, timeoutMs: 30_000 },
  quick: { clients: 40, measureMs: 2_000, warmupMs: 500, timeoutMs: 15_000 },
};

export const tlcpUpdates: Scenario = {
  name: "tlcp-updates",
  title: "TLCP update delivery (Lightstreamer Node client, WS-STREAMING)",
  prepare(mode): PreparedScenario {
    const p = TLCP_PARAMS[mode];
    return {
      params: { ...p },
      summary: `${p.clients} clients on DEMO/clock (100 ms updates), ${p.measureMs / 1000} s measured after ${p.warmupMs} ms warm-up`,
      run: (target, progress) => runTlcp(target, p, progress),
    };
  },
};

async function runTlcp(target: Target, p: TlcpParams, progress: (line: string) => void): Promise<TargetResult> {
  const errors = new ErrorLog();
  const started = monoMs();
  const delays: number[] = [];
  let measuring = false;
  let subscribed = 0;
  const clients: LightstreamerClient[] = [];
  try {
    for (let i = 0; i < p.clients; i++) {
      const client = new LightstreamerClient(target.nextBase(), "DEMO");
      client.connectionOptions.setForcedTransport("WS-STREAMING");
      client.addListener({ onServerError: (code, message) => errors.add(`server error ${code}: ${message}`) });
      const clock = new Subscription("MERGE", ["clock"], ["seq", "ts"]);
      clock.setRequestedSnapshot("no");
      let since = Number.POSITIVE_INFINITY;
      clock.addListener({
        onSubscription: () => {
          subscribed += 1;
          since = monoMs();
        },
        onSubscriptionError: (code, message) => errors.add(`subscription error ${code}: ${message}`),
        onItemUpdate: (update) => {
          const receivedAt = epochMs();
          if (!measuring || monoMs() - since < p.warmupMs) return;
          delays.push(receivedAt - Number(update.getValue("ts")));
        },
      });
      client.subscribe(clock);
      client.connect();
      clients.push(client);
    }
    const deadline = monoMs() + p.timeoutMs;
    while (subscribed < p.clients && monoMs() < deadline) await sleep(50);
    if (subscribed < p.clients) errors.add(`${p.clients - subscribed} clients not subscribed within ${p.timeoutMs} ms`);
    progress(`${target.name}: ${subscribed}/${p.clients} clients subscribed, measuring`);
    calibrate();
    measuring = true;
    await sleep(p.warmupMs + p.measureMs);
    measuring = false;
    progress(`${target.name}: ${delays.length} updates measured`);
  } finally {
    for (const client of clients) client.disconnect();
  }
  return {
    target: target.name,
    metrics: [{ kind: "latency", key: "delay", label: "update delay", summary: summarize(delays) }],
    errorCount: errors.count,
    errors: errors.messages(),
    elapsedMs: monoMs() - started,
  };
}
