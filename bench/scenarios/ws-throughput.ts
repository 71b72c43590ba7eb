/**
 * WebSocket echo throughput: `sockets` S WebSockets (through push-edge: each through its
 * own session DO), each keeping one 64-byte message in flight, for `durationMs`. Reports
 * echoed messages per second over all sockets (the "msgs/s, 50 conns").
 */
import { ErrorLog, type Mode, type PreparedScenario, type Scenario, type TargetResult } from "../scenario.ts";
import { summarize } from "../stats.ts";
import { monoMs } from "../lib/clock.ts";
import { EchoSocket } from "../lib/echo-socket.ts";
import { errorMessage, inParallel } from "../lib/time.ts";
import { wsBase, type Target } from "../targets/target.ts";

export interface WsThroughputParams {
  readonly sockets: number;
  readonly payloadBytes: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly timeoutMs: number;
}

export const WS_THROUGHPUT_PARAMS: Record<Mode, WsThroughputParams> = {
  full: { sockets: 50, payloadBytes: 64, warmupMs: 1_000, durationMs: 5_000, timeoutMs: 5_000 },
  quick: { sockets: 10, payloadBytes: 64, warmupMs: 300, durationMs: 1_000, timeoutMs: 5_000 },
};

export const wsThroughput: Scenario = {
  name: "ws-throughput",
  title: "WebSocket echo throughput",
  prepare(mode): PreparedScenario {
    const p = WS_THROUGHPUT_PARAMS[mode];
    return {
      params: { ...p },
      summary: `${p.sockets} sockets, one ${p.payloadBytes}-byte message in flight each, ${p.durationMs / 1000} s after ${p.warmupMs} ms warm-up`,
      run: (target, progress) => runWsThroughput(target, p, progress),
    };
  },
};

async function runWsThroughput(target: Target, p: WsThroughputParams, progress: (line: string) => void): Promise<TargetResult> {
  const errors = new ErrorLog();
  const started = monoMs();
  const sockets: EchoSocket[] = [];
  const rtts: number[] = [];
  let counted = 0;
  let measuredMs = 0;
  try {
    let next = 0;
    await inParallel(8, async () => {
      while (next < p.sockets) {
        next += 1;
        try {
          sockets.push(await EchoSocket.open(`${wsBase(target.nextBase())}/ws?interval_ms=0`, p.timeoutMs, { headers: target.createHeaders?.() ?? {} }));
        } catch (err) {
          errors.add(`open: ${errorMessage(err)}`);
        }
      }
    });
    progress(`${target.name}: ${sockets.length}/${p.sockets} sockets open`);
    const t0 = monoMs();
    const measureFrom = t0 + p.warmupMs;
    const end = measureFrom + p.durationMs;
    const payload = "".padEnd(p.payloadBytes, "x");
    await Promise.all(
      sockets.map(async (socket, i) => {
        for (let n = 0; monoMs() < end && socket.usable; n++) {
          try {
            // Distinct payloads, so a late echo of an earlier message is never taken for this one.
            const rtt = await socket.echo(`${i}:${n}:${payload}`.slice(0, p.payloadBytes), p.timeoutMs);
            if (monoMs() >= measureFrom && monoMs() <= end) {
              counted += 1;
              rtts.push(rtt);
            }
          } catch (err) {
            errors.add(`echo: ${errorMessage(err)}`);
          }
        }
        if (!socket.usable && monoMs() < end) errors.add(`socket closed mid-run (code ${socket.closeCode})`);
      }),
    );
    measuredMs = Math.min(monoMs(), end) - measureFrom;
    progress(`${target.name}: ${counted} echoes in ${(measuredMs / 1000).toFixed(1)} s`);
  } finally {
    await Promise.all(sockets.map((s) => s.close()));
  }
  return {
    target: target.name,
    metrics: [
      { kind: "rate", key: "rate", label: "echoes/s", unit: "/s", value: measuredMs > 0 ? (counted * 1000) / measuredMs : Number.NaN },
      { kind: "latency", key: "rtt", label: "round trip under load", summary: summarize(rtts) },
    ],
    errorCount: errors.count,
    errors: errors.messages(),
    elapsedMs: monoMs() - started,
  };
}
