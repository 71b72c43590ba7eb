/**
 * How `npm start` ends, whichever way it is told to:
 * - SIGINT / SIGTERM (Ctrl-C, `kill`, npm passing on the signal it got, systemd, a
 *   container runtime): the origins get SIGTERM, Miniflare's own exit hook disposes
 *   workerd, and the process exits 130 / 143.
 * - its parent goes away without a word (npm killed with SIGKILL): the same stop as SIGTERM.
 * - it is itself killed with SIGKILL: the orphan guard ends what it started.
 * The package.json script `exec`s node, so npm's signal reaches this process and not a
 * `sh -c` that would keep it to itself.
 */
import type { OrphanGuard } from "./orphan-guard.ts";
import type { RunningStack } from "./stack.ts";

/** How often to check that the parent still is; a stop within a second is soon enough. */
const PARENT_POLL_MS = 1_000;
/** While starting, how often new children (origins, wrangler's build, workerd) are handed to the guard. */
const STARTUP_POLL_MS = 200;
/** Read when `npm start` begins, so that a parent that dies while the stack starts is noticed too. */
const PARENT = process.ppid;

/**
 * While the stack starts (the build, origins coming up, workerd): every child is handed to
 * the orphan guard as it appears, and SIGINT/SIGTERM end what has started so far — the
 * origins' exit hooks, Miniflare's once it exists, the guard for anything else. `end()`
 * hands over to `supervise()` once the stack is up.
 */
export function superviseStartup(guard: OrphanGuard): { end(): void } {
  const timer = setInterval(() => guard.watchChildren(), STARTUP_POLL_MS);
  timer.unref();
  const early = (signal: NodeJS.Signals): void => {
    guard.watchChildren();
    process.stdout.write(`push-edge: ${signal} while starting; stopping what has started\n`);
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", early);
  process.once("SIGTERM", early);
  return {
    end() {
      clearInterval(timer);
      process.off("SIGINT", early);
      process.off("SIGTERM", early);
    },
  };
}

export function supervise(stack: RunningStack, guard: OrphanGuard): void {
  let stopping = false;
  for (const p of stack.processes) {
    p.child.once("exit", (code, signal) => {
      if (!stopping) process.stderr.write(`push-edge: origin ${p.id} exited (${signal ?? `code ${code}`}); the edge will route around it\n`);
    });
  }
  guard.watchChildren();

  // Miniflare's own SIGINT/SIGTERM hook disposes workerd and calls process.exit() right
  // away, so this handler runs first and does its part synchronously: say so, and signal
  // the origins (each also gets SIGTERM from the exit hook in origin-process.ts).
  const stop = (why: string): void => {
    if (stopping) return;
    stopping = true;
    guard.stopping();
    process.stdout.write(`push-edge: ${why}, stopping the edge and ${stack.processes.length} origins\n`);
    for (const p of stack.processes) p.child.kill("SIGTERM");
  };
  process.prependListener("SIGINT", () => stop("SIGINT"));
  process.prependListener("SIGTERM", () => stop("SIGTERM"));

  // Re-parented (to init or a subreaper): whoever ran us is gone, and nobody is left to
  // stop the stack. Stopping the way SIGTERM does keeps one path for every stop.
  setInterval(() => {
    if (process.ppid === PARENT) return;
    stop(`parent process ${PARENT} exited`);
    process.kill(process.pid, "SIGTERM");
  }, PARENT_POLL_MS).unref();
}
