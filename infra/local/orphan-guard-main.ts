/**
 * The orphan guard: a small process `npm start` runs beside the stack, so that the
 * processes the stack started end with it even when it cannot end them itself (SIGKILL,
 * a crash, the OOM killer). workerd is spawned by Miniflare and the origins by us; none of
 * them would notice their parent vanish, so this process notices for them.
 *
 * Its stdin is a pipe from the stack process. Lines it reads:
 *   `watch <pid> <startTime>`  a process to end if the stack dies
 *   `stopping`                 the stack is stopping them itself: only make sure they end
 * When stdin closes — the stack process exited, however it did — every watched process
 * still running gets SIGTERM (unless `stopping` came first) and, after a grace time,
 * SIGKILL. Terminal signals (Ctrl-C goes to the whole group) are ignored: this process
 * acts only on its stdin closing, then exits.
 */
import { createInterface } from "node:readline";
import { isRunning, type ProcessIdentity } from "./proc.ts";

/** How long a watched process may take to stop after SIGTERM (an origin closes within 3 s). */
const GRACE_MS = 8_000;
const POLL_MS = 100;

const watched: ProcessIdentity[] = [];
let stopping = false;

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => {});
process.stderr.on("error", () => {});

function say(line: string): void {
  process.stderr.write(`push-edge guard: ${line}\n`);
}

function signal(id: ProcessIdentity, name: NodeJS.Signals): void {
  // Checked right before each kill: a pid whose process ended may since belong to another.
  if (!isRunning(id)) return;
  try {
    process.kill(id.pid, name);
  } catch {
    // Ended between the check and the kill.
  }
}

async function endWatched(): Promise<void> {
  const alive = () => watched.filter(isRunning);
  if (alive().length === 0) return;
  if (!stopping) {
    say(`the stack process is gone; stopping the ${alive().length} processes it started`);
    for (const id of alive()) signal(id, "SIGTERM");
  }
  const deadline = Date.now() + GRACE_MS;
  while (alive().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, POLL_MS));
  const stuck = alive();
  if (stuck.length > 0) {
    say(`${stuck.map((id) => id.pid).join(", ")} still running after ${GRACE_MS / 1000} s: SIGKILL`);
    for (const id of stuck) signal(id, "SIGKILL");
  }
}

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  const [verb, pid, startTime] = line.trim().split(" ");
  if (verb === "watch" && pid !== undefined && startTime !== undefined && /^\d+$/.test(pid)) watched.push({ pid: Number(pid), startTime });
  else if (verb === "stopping") stopping = true;
});
lines.on("close", () => {
  void endWatched().then(() => process.exit(0));
});
