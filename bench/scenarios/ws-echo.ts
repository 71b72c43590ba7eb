/**
 * WebSocket echo round trip (one connection, one message in flight, 64-byte text, as in
 * the reference table; through push-edge that is through a session DO): open S WebSockets (`/ws?interval_ms=0`: no ticks, only the
 * origin's echo), wait for the origin's hello, then send small text messages and time
 * each one until its echo comes back. `concurrency` workers each own a share of the
 * sockets and keep one message in flight, so at most `concurrency` round trips overlap.
 * The first `warmup` messages on every socket are not counted.
 */
import { ErrorLog, type Mode, type PreparedScenario, type Scenario } from "../scenario.ts";
import { summarize } from "../stats.ts";
import { monoMs } from "../lib/clock.ts";
import { EchoSocket } from "../lib/echo-socket.ts";
import { errorMessage, inParallel } from "../lib/time.ts";
import { wsBase, type Target } from "../targets/target.ts";

export interface WsEchoParams {
  readonly sockets: number;
  readonly messages: number;
  readonly warmup: number;
  readonly concurrency: number;
  readonly payloadBytes: number;
  /** Longest wait for one open or one echo. */
  readonly timeoutMs: number;
  /** The whole measurement stops after this long, counted or not. */
  readonly budgetMs: number;
}

export const WS_ECHO_PARAMS: Record<Mode, WsEchoParams> = {
  full: { sockets: 1, messages: 3_000, warmup: 200, concurrency: 1, payloadBytes: 64, timeoutMs: 5_000, budgetMs: 20_000 },
  quick: { sockets: 1, messages: 300, warmup: 50, concurrency: 1, payloadBytes: 64, timeoutMs: 5_000, budgetMs: 5_000 },
};

export const wsEcho: Scenario = {
  name: "ws-echo",
  title: "WebSocket echo round trip",
  prepare(mode): PreparedScenario {
    const p = WS_ECHO_PARAMS[mode];
    return {
      params: { ...p },
      summary: `${p.sockets} sockets × ${p.messages} messages (+${p.warmup} warm-up each), ${p.concurrency} in flight, ${p.payloadBytes}-byte text`,
      run: (target, progress) => runWsEcho(target, p, progress),
    };
  },
};

async function runWsEcho(target: Target, p: WsEchoParams, progress: (line: string) => void) {
  const errors = new ErrorLog();
  const rtts: number[] = [];
  const opens: number[] = [];
  const started = monoMs();
  const sockets: Array<EchoSocket | undefined> = new Array<EchoSocket | undefined>(p.sockets).fill(undefined);

  try {
    // Open the sockets, `concurrency` at a time.
    let nextOpen = 0;
    await inParallel(p.concurrency, async () => {
      while (nextOpen < p.sockets) {
        const i = nextOpen++;
        const t0 = monoMs();
        try {
          sockets[i] = await EchoSocket.open(`${wsBase(target.nextBase())}/ws?interval_ms=0`, p.timeoutMs, { headers: target.createHeaders?.() ?? {} });
          opens.push(monoMs() - t0);
        } catch (err) {
          errors.add(`open: ${errorMessage(err)}`);
        }
      }
    });
    progress(`${target.name}: ${opens.length}/${p.sockets} sockets open`);

    const deadline = started + p.budgetMs;
    await inParallel(p.concurrency, async (w) => {
      let mine = sockets.filter((s, i): s is EchoSocket => s !== undefined && i % p.concurrency === w);
      for (let round = 0; round < p.warmup + p.messages && monoMs() <= deadline; round++) {
        const lost = mine.filter((s) => !s.usable);
        for (const socket of lost) errors.add(`socket closed mid-run (code ${socket.closeCode})`);
        if (lost.length > 0) mine = mine.filter((s) => s.usable);
        for (const socket of mine) {
          if (monoMs() > deadline) break;
          const payload = `${w}:${round}:`.padEnd(p.payloadBytes, "x");
          try {
            const rtt = await socket.echo(payload, p.timeoutMs);
            if (round >= p.warmup) rtts.push(rtt);
          } catch (err) {
            errors.add(`echo: ${errorMessage(err)}`);
          }
        }
      }
    });
    if (monoMs() > deadline) errors.add(`budget of ${p.budgetMs} ms ran out before all messages were sent`);
    progress(`${target.name}: ${rtts.length} round trips measured`);
  } finally {
    await Promise.all(sockets.map((s) => s?.close()));
  }

  return {
    target: target.name,
    metrics: [
      { kind: "latency" as const, key: "rtt", label: "round trip", summary: summarize(rtts) },
      { kind: "latency" as const, key: "open", label: "open + hello (S)", summary: summarize(opens) },
    ],
    errorCount: errors.count,
    errors: errors.messages(),
    elapsedMs: monoMs() - started,
  };
}
