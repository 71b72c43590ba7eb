/**
 * Fresh reference origins with a fresh hop (push-edge stack, HAProxy, nginx) in front,
 * for the balance scenarios: sessions left over from other scenarios must not skew the
 * spread, and the restart scenario restarts one of these origins on its own port.
 */
import { startOriginProcess, type OriginProcess } from "../../infra/local/origin-process.ts";
import { openFileLimit } from "./procs.ts";
import type { TargetResult } from "../scenario.ts";
import type { Hop, HopOptions, Target } from "../targets/target.ts";

/** Idle sessions must outlive the scenario; origins must not refuse for being full. */
export const BALANCE_ORIGIN_ARGS = ["--interval-ms", "0", "--capacity", "100000", "--session-idle-ms", "3600000"];

/** With BENCH_HOP_LOG=1 the worlds' edge and origin output goes to stderr (e.g. why a workerd ended). */
export function hopLog(line: string): void {
  if (process.env.BENCH_HOP_LOG === "1") process.stderr.write(`[hop] ${line}\n`);
}

export interface BalanceWorld {
  readonly origins: OriginProcess[];
  readonly hop: Hop;
  /** Stops origin `index` and starts it again on the same port after `downMs`. */
  restart(index: number, downMs: number): Promise<void>;
  close(): Promise<void>;
}

export async function startBalanceWorld(target: Target, originCount: number, options: HopOptions, log: (line: string) => void): Promise<BalanceWorld> {
  if (target.inFrontOf === undefined) throw new TypeError(`${target.name} balances nothing`);
  const origins: OriginProcess[] = await Promise.all(
    Array.from({ length: originCount }, (_, i) => startOriginProcess(`o${i + 1}`, ["--listen", "combined=127.0.0.1:0", ...BALANCE_ORIGIN_ARGS], log)),
  );
  let hop: Hop;
  try {
    hop = await target.inFrontOf(
      origins.map((o) => ({ id: o.id, url: o.url })),
      options,
    );
  } catch (err) {
    await Promise.all(origins.map((o) => o.stop()));
    throw err;
  }
  return {
    origins,
    hop,
    async restart(index, downMs) {
      const old = origins[index];
      if (old === undefined) throw new RangeError(`no origin ${index}`);
      await old.stop();
      await new Promise((r) => setTimeout(r, downMs));
      const port = new URL(old.url).port;
      origins[index] = await startOriginProcess(old.id, ["--listen", `combined=127.0.0.1:${port}`, ...BALANCE_ORIGIN_ARGS], log);
    },
    async close() {
      await hop.close();
      await Promise.all(origins.map((o) => o.stop()));
    },
  };
}

/**
 * Runs `measure` against a fresh hop of `outer`'s kind in front of 3 fresh origins, and
 * closes both after: for scenarios that must see a first fill (memory, capacity). A target
 * that cannot start another hop (direct, edge-tcp) gets an empty column.
 */
export async function inFreshHop(outer: Target, measure: (hop: Target) => Promise<TargetResult>): Promise<TargetResult> {
  if (outer.inFrontOf === undefined) return { target: outer.name, metrics: [], errorCount: 0, errors: [], elapsedMs: 0 };
  const world = await startBalanceWorld(outer, 3, { log: hopLog }, hopLog);
  try {
    return await measure(world.hop.target);
  } finally {
    await world.close();
  }
}

/**
 * Local workerd holds ≈ 7.5 file descriptors per held WebSocket session (measured: 4
 * sockets plus the SQLite database, WAL and shared-memory files of the session's Durable
 * Object and its registry shard). Past its open-file limit it crashes ("accept(): Too many
 * open files"), so a scenario that would cross it says so instead of running into it.
 */
export const WORKERD_FDS_PER_SESSION = 7.5;

export function fdShortfall(target: Target, sessions: number): string | undefined {
  if (target.pids === undefined || !target.path.includes("workerd")) return undefined;
  const needed = Math.ceil(sessions * WORKERD_FDS_PER_SESSION) + 500;
  for (const pid of target.pids()) {
    const limit = openFileLimit(pid);
    if (limit !== undefined && limit < needed) {
      return `not run: workerd's open-file limit is ${limit}, below the ≈ ${needed} that ${sessions} held sessions need (≈ ${WORKERD_FDS_PER_SESSION} per session: 4 sockets + SQLite files); raise the hard \`ulimit -n\` or lower the session count`;
    }
  }
  return undefined;
}

/** BENCH_BALANCE_CLIENTS=N overrides the balance scenarios' client count (e.g. under a low open-file limit). */
export function balanceClients(fallback: number): number {
  const raw = process.env.BENCH_BALANCE_CLIENTS;
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 3 || n > 20_000) throw new RangeError(`BENCH_BALANCE_CLIENTS must be an integer 3-20000 (got ${JSON.stringify(raw)})`);
  return n;
}
