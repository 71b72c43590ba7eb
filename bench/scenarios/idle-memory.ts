/**
 * Memory and open files per held idle WebSocket session: the resident memory (RSS, /proc)
 * and open file descriptors of the hop's processes — workerd for push-edge and the
 * floors, haproxy, nginx master + worker — before and after `sessions` idle S WebSockets
 * (`/ws?interval_ms=0`, no traffic) are open and have been held past the runtime's idle
 * period (`idleMs`: workerd hibernates or evicts an idle object after ~10 s), divided by
 * the number held. Each column gets a fresh hop (and fresh origins, lib/balance-world.ts):
 * in a process that has held sessions before, the allocator reuses freed memory and the
 * delta comes out far lower than a first fill — so every column and round measures a first
 * fill. Then, once those sessions are closed and the hop sat idle, a second fill of as many
 * measures exactly that lower figure: the steady state of a fleet whose sessions come and go.
 * A direct connection has no hop, and `edge-tcp` shares the edge's process model: their
 * columns are empty.
 */
import { ErrorLog, type Mode, type PreparedScenario, type Scenario, type TargetResult } from "../scenario.ts";
import { monoMs } from "../lib/clock.ts";
import { EchoSocket } from "../lib/echo-socket.ts";
import { inFreshHop } from "../lib/balance-world.ts";
import { openFiles, totalRssKiB } from "../lib/procs.ts";
import { errorMessage, inParallel, sleep } from "../lib/time.ts";
import { wsBase, type Target } from "../targets/target.ts";

export interface IdleMemoryParams {
  readonly sessions: number;
  readonly parallel: number;
  /** Sessions opened and closed before the baseline. */
  readonly warmup: number;
  /** Pause after opening, so lazily freed memory settles before RSS is read. */
  readonly settleMs: number;
  /** How long the sessions are held idle before RSS is read: past workerd's ~10 s idle period. */
  readonly idleMs: number;
  readonly timeoutMs: number;
}

export const IDLE_MEMORY_PARAMS: Record<Mode, IdleMemoryParams> = {
  full: { sessions: 1_000, parallel: 16, warmup: 20, settleMs: 2_000, idleMs: 12_000, timeoutMs: 10_000 },
  quick: { sessions: 50, parallel: 8, warmup: 10, settleMs: 500, idleMs: 11_000, timeoutMs: 10_000 },
};

export const idleMemory: Scenario = {
  name: "idle-memory",
  title: "Memory per held idle WebSocket session (RSS of the hop)",
  prepare(mode): PreparedScenario {
    const p = IDLE_MEMORY_PARAMS[mode];
    return {
      params: { ...p },
      summary: `${p.sessions} idle WebSocket sessions held ${p.idleMs / 1000} s by a fresh hop (after ${p.warmup} opened and closed); (RSS after − RSS before) / sessions held, and the same for open files; then, once those are closed and the hop sat idle ${p.idleMs / 1000} s, a second fill of as many`,
      run: (target, progress) => inFreshHop(target, (hop) => measure(target.name, hop, p, progress)),
    };
  },
};

async function measure(name: string, target: Target, p: IdleMemoryParams, progress: (line: string) => void): Promise<TargetResult> {
  const started = monoMs();
  const errors = new ErrorLog();
  if (target.pids === undefined) return { target: name, metrics: [], errorCount: 0, errors: [], elapsedMs: 0 };
  // One-time costs (the Worker's and the session class's code, first connections) are not
  // per session: a few sessions are opened and closed before the baseline is read.
  const warm: EchoSocket[] = [];
  for (let i = 0; i < p.warmup; i++) {
    try {
      warm.push(await EchoSocket.open(`${wsBase(target.nextBase())}/ws?interval_ms=0`, p.timeoutMs, { headers: target.createHeaders?.() ?? {} }));
    } catch (err) {
      errors.add(`warm-up open: ${errorMessage(err)}`);
    }
  }
  await Promise.all(warm.map((w) => w.close()));
  await sleep(p.settleMs);
  const first = await holdFill(name, "first fill", target, p, errors, progress);
  // The same number again, once the first fill's sessions are closed and the hop has been
  // idle past its idle period: what a session costs a hop that has held as many before —
  // the steady state of a fleet whose sessions come and go, where the first fill's
  // high-water mark (allocator and heap growth, every new object awake at once) is reused.
  await sleep(p.idleMs);
  const second = first === undefined ? undefined : await holdFill(name, "second fill", target, p, errors, progress);
  return {
    target: name,
    metrics: [
      { kind: "rate", key: "per-session", label: "KiB per held session", unit: "KiB", value: first?.kib ?? Number.NaN },
      { kind: "rate", key: "files-per-session", label: "open files per held session", unit: "×", value: first?.files ?? Number.NaN },
      { kind: "rate", key: "per-session-refill", label: "KiB per held session, second fill", unit: "KiB", value: second?.kib ?? Number.NaN },
    ],
    errorCount: errors.count,
    errors: errors.messages(),
    elapsedMs: monoMs() - started,
  };
}

/** Opens `p.sessions`, holds them past the idle period, reads RSS and files per session, closes them. */
async function holdFill(
  name: string,
  what: string,
  target: Target,
  p: IdleMemoryParams,
  errors: ErrorLog,
  progress: (line: string) => void,
): Promise<{ kib: number; files: number } | undefined> {
  const pids = target.pids?.() ?? [];
  const before = totalRssKiB(pids);
  const filesBefore = openFiles(pids);
  if (before === undefined) {
    errors.add(`cannot read RSS of ${pids.join(", ") || "no process"} (/proc)`);
    return undefined;
  }
  const sockets: EchoSocket[] = [];
  let kib = Number.NaN;
  let files = Number.NaN;
  try {
    let next = 0;
    await inParallel(p.parallel, async () => {
      while (next < p.sessions) {
        next += 1;
        try {
          sockets.push(await EchoSocket.open(`${wsBase(target.nextBase())}/ws?interval_ms=0`, p.timeoutMs, { headers: target.createHeaders?.() ?? {} }));
        } catch (err) {
          errors.add(`open: ${errorMessage(err)}`);
        }
      }
    });
    await sleep(Math.max(p.settleMs, p.idleMs));
    const held = sockets.filter((s) => s.usable).length;
    const after = totalRssKiB(target.pids?.() ?? []);
    const filesAfter = openFiles(target.pids?.() ?? []);
    if (after === undefined) errors.add("the hop's process ended while sessions were held");
    else if (held > 0) kib = (after - before) / held;
    if (held > 0 && filesBefore !== undefined && filesAfter !== undefined) files = (filesAfter - filesBefore) / held;
    progress(`${name} ${what}: ${held} held ${p.idleMs / 1000} s, RSS ${before} → ${after ?? "?"} KiB, open files ${filesBefore ?? "?"} → ${filesAfter ?? "?"}`);
  } finally {
    await inParallel(p.parallel, async (w) => {
      for (let i = w; i < sockets.length; i += p.parallel) await sockets[i]?.close();
    });
  }
  return Number.isNaN(kib) ? undefined : { kib, files };
}
