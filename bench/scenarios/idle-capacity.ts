/**
 * How many idle sessions a fresh hop holds before it refuses: idle S WebSockets
 * (`/ws?interval_ms=0`) are opened, `parallel` at a time, and held until the hop first
 * refuses one (any failed open: push-edge must answer `503` + `Retry-After`, never crash),
 * its process ends, or `cap` are held. Reports the number held and how it ended:
 * 1 = refused with 503, 0 = the cap was reached first, −1 = anything else (another status,
 * a reset, the hop's process gone — named in the errors). Each column gets a fresh hop
 * and fresh origins (lib/balance-world.ts), so earlier scenarios' sessions don't count.
 */
import { ErrorLog, type Mode, type PreparedScenario, type Scenario, type TargetResult } from "../scenario.ts";
import { monoMs } from "../lib/clock.ts";
import { EchoSocket } from "../lib/echo-socket.ts";
import { inFreshHop } from "../lib/balance-world.ts";
import { openFiles, totalRssKiB } from "../lib/procs.ts";
import { errorMessage, inParallel } from "../lib/time.ts";
import { wsBase, type Target } from "../targets/target.ts";

export interface IdleCapacityParams {
  readonly cap: number;
  readonly parallel: number;
  readonly timeoutMs: number;
}

export const IDLE_CAPACITY_PARAMS: Record<Mode, IdleCapacityParams> = {
  full: { cap: 6_000, parallel: 16, timeoutMs: 10_000 },
  quick: { cap: 300, parallel: 16, timeoutMs: 10_000 },
};

export const idleCapacity: Scenario = {
  name: "idle-capacity",
  title: "Idle sessions held before the hop refuses",
  prepare(mode): PreparedScenario {
    const p = IDLE_CAPACITY_PARAMS[mode];
    return {
      params: { ...p },
      summary: `idle WebSocket sessions opened ${p.parallel} at a time until the first refusal or ${p.cap} held; ended: 1 = refused with 503, 0 = cap reached, −1 = failed otherwise`,
      run: (target, progress) => inFreshHop(target, (hop) => fill(target.name, hop, p, progress)),
    };
  },
};

async function fill(name: string, target: Target, p: IdleCapacityParams, progress: (line: string) => void): Promise<TargetResult> {
  const started = monoMs();
  const errors = new ErrorLog();
  const sockets: EchoSocket[] = [];
  let refusal: string | undefined;
  let opened = 0;
  try {
    await inParallel(p.parallel, async () => {
      while (refusal === undefined && opened < p.cap) {
        opened += 1;
        try {
          sockets.push(await EchoSocket.open(`${wsBase(target.nextBase())}/ws?interval_ms=0`, p.timeoutMs, { headers: target.createHeaders?.() ?? {} }));
        } catch (err) {
          refusal ??= errorMessage(err);
        }
      }
    });
    const held = sockets.filter((s) => s.usable).length;
    const pids = target.pids?.() ?? [];
    const alive = pids.length > 0 && totalRssKiB(pids) !== undefined;
    const ended = refusal === undefined ? 0 : /HTTP 503/.test(refusal) && alive ? 1 : -1;
    if (ended === -1) errors.add(`ended by: ${refusal ?? "?"}${alive ? "" : " (the hop's process is gone)"}`);
    progress(`${name}: ${held} held; ${refusal === undefined ? `cap ${p.cap} reached` : `first refusal: ${refusal}`}; open files ${openFiles(pids) ?? "?"}`);
    return {
      target: name,
      metrics: [
        { kind: "rate", key: "held", label: "idle sessions held", unit: "sessions", value: held },
        { kind: "rate", key: "ended", label: "ended (1 refused 503 / 0 cap / −1 failed)", unit: "code", value: ended },
      ],
      errorCount: errors.count,
      errors: errors.messages(),
      elapsedMs: monoMs() - started,
    };
  } finally {
    await inParallel(p.parallel, async (w) => {
      for (let i = w; i < sockets.length; i += p.parallel) await sockets[i]?.close();
    });
  }
}
