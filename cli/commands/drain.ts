/**
 * `push-edge drain <origin> --rate N`: the edge ends the origin's sessions at N per second
 * with each protocol's reconnect signal (README "Pools"); the CLI shows the progress until
 * the origin holds no session, --timeout passes, or Ctrl-C (the drain goes on at the edge).
 */
import type { OriginView } from "../client.ts";
import { GLOBAL_HELP, numberFlag, onePositional, positiveFlag, type Command, type CommandContext } from "../command.ts";
import { CliError, EXIT, type ExitCode } from "../errors.ts";
import { loadBar } from "../format.ts";
import { pause } from "../pause.ts";
import { originIn } from "./origin-state.ts";

/** How often progress is polled: the coordinator's counts change once per health round anyway. */
const POLL_MS = 500;
/**
 * How long after a drain begins an edge isolate may still place a session on the origin:
 * it places with a pool snapshot of up to 5 s (workers/edge/balance/pool-view.ts
 * SNAPSHOT_EXPIRED_MS) before it must fetch a fresh one.
 */
const PLACEMENT_LAG_MS = 5_000;
const DEFAULT_TIMEOUT_SECONDS = 900;

export const drain: Command = {
  name: "drain",
  summary: "end an origin's sessions at --rate N per second; shows progress until none is left",
  help: `usage: push-edge drain <origin> [--rate N] [--no-wait] [--timeout SECONDS] [--pool NAME] [--json]

Sets the origin to draining: it takes no new sessions, and the edge ends its sessions at
--rate per second (default: the edge's, 10/s) with each protocol's reconnect signal, so
clients come back through the edge onto other origins. Shows the progress until the
origin holds no session (exit 0), or --timeout passes (default ${DEFAULT_TIMEOUT_SECONDS} s; exit 1,
the drain goes on). Ctrl-C stops watching; the drain goes on at the edge.
--no-wait returns as soon as the edge accepted the drain.
--json prints {"pool","origin","state","ended","remaining","done","elapsedMs"} at the end
(or {"error","message"} when it failed); progress goes to stderr either way.

${GLOBAL_HELP}`,
  options: { rate: { type: "string" }, "no-wait": { type: "boolean" }, timeout: { type: "string" } },
  async run(positionals, values, ctx) {
    const id = onePositional(positionals, "<origin>");
    const rate = positiveFlag(values, "rate");
    const timeoutMs = numberFlag(values, "timeout", DEFAULT_TIMEOUT_SECONDS, 0) * 1000;
    const started = Date.now();
    const pool = await ctx.client.setOriginState(ctx.pool, id, "drain", rate);
    const origin = originIn(pool, id);
    if (values["no-wait"] === true) {
      report(ctx, pool.name, origin, started, false);
      if (!ctx.json) ctx.out(`${id} is draining at ${origin.drain?.rate ?? rate ?? "?"}/s: ${origin.sessions} sessions to end (push-edge status shows the progress)`);
      return EXIT.ok;
    }
    // Rounds that count: after every isolate has seen the drain (plus one round to count
    // what the last stale placements registered).
    const intervalMs = pool.settings?.health?.intervalMs ?? 2_000;
    return watch(ctx, pool.name, id, started, timeoutMs, origin.checkedAt + PLACEMENT_LAG_MS + intervalMs);
  },
};

/**
 * The coordinator counts an origin's sessions once per health round, and isolates holding
 * a snapshot from before the drain may still place sessions there for a few seconds. So
 * "drained" needs zero sessions in two rounds that both ran after `countFrom`: the round
 * before the drain plus the placement lag and one interval (`checkedAt` is the edge's
 * clock, compared only with itself).
 */
async function watch(ctx: CommandContext, pool: string, id: string, started: number, timeoutMs: number, countFrom: number): Promise<ExitCode> {
  const deadline = started + timeoutMs;
  const emptyRounds = new Set<number>();
  for (;;) {
    const view = (await ctx.client.pools()).pools.find((p) => p.name === pool);
    if (view === undefined) throw new CliError(EXIT.failed, "unknown_pool", `pool ${pool} is gone`);
    const origin = originIn(view, id);
    if (origin.state !== "draining") {
      ctx.progress("");
      throw new CliError(EXIT.failed, "drain_stopped", `${id} is no longer draining (its state is now ${origin.state}); ${origin.sessions} sessions remain`);
    }
    const ended = origin.drain?.ended ?? 0;
    ctx.progress(`draining ${id} at ${origin.drain?.rate ?? "?"}/s: ${ended} ended, ${origin.sessions} left  ${progressBar(ended, origin.sessions)}`);
    if (origin.sessions === 0 && origin.checkedAt > countFrom) emptyRounds.add(origin.checkedAt);
    else if (origin.sessions > 0) emptyRounds.clear();
    if (emptyRounds.size >= 2) {
      ctx.progress("");
      report(ctx, pool, origin, started, true);
      if (!ctx.json) ctx.out(`${id} drained: ${ended} sessions ended in ${((Date.now() - started) / 1000).toFixed(1)} s; it takes no new sessions until 'push-edge activate ${id}'`);
      return EXIT.ok;
    }
    if (Date.now() >= deadline) {
      ctx.progress("");
      // --json: the error object is the one document on stdout (main prints it).
      throw new CliError(EXIT.failed, "drain_timeout", `${id} still holds ${origin.sessions} sessions after ${Math.round(timeoutMs / 1000)} s; the drain goes on at the edge`);
    }
    if (await pause(ctx.signal, Math.min(POLL_MS, Math.max(0, deadline - Date.now())))) {
      ctx.progress("");
      ctx.note(`stopped watching: the drain of ${id} goes on at the edge (push-edge status shows it)`);
      return EXIT.interrupted;
    }
  }
}

function report(ctx: CommandContext, pool: string, origin: OriginView, started: number, done: boolean): void {
  if (!ctx.json) return;
  ctx.out(
    JSON.stringify({ pool, origin: origin.id, state: origin.state, ended: origin.drain?.ended ?? 0, remaining: origin.sessions, done, elapsedMs: Date.now() - started }),
  );
}

/** Share of the drain done, as a bar. */
function progressBar(ended: number, left: number): string {
  return loadBar(ended + left === 0 ? 1 : ended / (ended + left), 20);
}
