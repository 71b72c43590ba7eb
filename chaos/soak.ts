/**
 * `npm run soak [-- --sessions 2000] [--minutes 10] [--ws-share 0.5] [--json] [--verbose]`:
 * many concurrent push sessions (SSE and WebSocket through the edge) for a while, with
 * churn — clients leave after a random lifetime and are replaced by new ones, and the
 * pool's maximum session duration tells long-lived sessions to reconnect. It samples the
 * memory of every process (workerd, each origin, this driver) over time, and at the end
 * checks what must hold after hours as much as after seconds: no lost or duplicated
 * event, no misrouted CR request, every session object cleaned up or expired, no process
 * left. Exits 1 if any of those fails. Bounded: the run, then at most one session
 * lifetime for the last sessions to expire.
 */
import { readFileSync } from "node:fs";
import { buildEdge } from "../infra/local/edge.ts";
import { EXPIRY_JITTER, startChaosStack } from "./lib/chaos-stack.ts";
import { parseCommandLine } from "./lib/cli-args.ts";
import { fetchOriginLog, misroutedRequests, sessionLeaks } from "./lib/checks.ts";
import { openFds, rssMiB, workerdPids } from "./lib/processes.ts";
import { emptyStats } from "./lib/client-stats.ts";
import { Gate } from "./lib/gate.ts";
import { sleep } from "./lib/http.ts";
import { ChaosClient } from "./lib/session-client.ts";
import { table } from "./report.ts";
import { mergeStats } from "./scenario.ts";

const USAGE = `usage: npm run soak -- [--sessions N] [--minutes M] [--ws-share F] [--json] [--verbose]
  --sessions N   concurrent sessions to hold (default 2000)
  --minutes M    how long to run (default 10)
  --ws-share F   share of WebSocket sessions, the rest SSE (default 0.5)
  --json         print the result as JSON
  --verbose      show the edge's and origins' output`;

const values = parseCommandLine(USAGE, {
  sessions: { type: "string", default: "2000" },
  minutes: { type: "string", default: "10" },
  "ws-share": { type: "string", default: "0.5" },
  json: { type: "boolean", default: false },
  verbose: { type: "boolean", default: false },
});

function positive(name: string, raw: string, max: number): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n > max) {
    console.error(`--${name}: must be a number in (0, ${max}], got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return n;
}

const sessions = Math.round(positive("sessions", values.sessions, 10_000));
const minutes = positive("minutes", values.minutes, 120);
const wsShare = Number(values["ws-share"]);
if (!(wsShare >= 0 && wsShare <= 1)) {
  console.error(`--ws-share: must be a number in [0, 1], got ${JSON.stringify(values["ws-share"])}`);
  process.exit(2);
}
const durationMs = minutes * 60_000;
/** Sessions end (told to reconnect) after this: churn from the server side, and what cleans every session object up. */
const maxSessionSeconds = Math.round(Math.min(300, Math.max(20, durationMs / 1000 / 2)));
/**
 * Clients leave after a lifetime uniform in [max/4, 2 × max]: churn from the client side;
 * about half outlive the maximum duration and are told to reconnect. With 2,000 sessions
 * for 10 minutes that is ~8 new sessions a second — what a busy 2-core machine sustains
 * beside everything else (each local session object costs ~10 ms of CPU to create).
 */
const lifetime = { min: maxSessionSeconds * 250, max: maxSessionSeconds * 2_000 };
const sampleEveryMs = durationMs >= 300_000 ? 10_000 : 2_000;
/** New clients per second at the start (local session objects cost ~10 ms of CPU each). */
const RAMP_PER_SECOND = 40;
/** S requests in flight at once (as the benchmark's session-create scenario). */
const CREATES_IN_FLIGHT = 16;

const say = (line: string): void => {
  if (!values.json) console.log(line);
};
const log = values.verbose ? (line: string) => console.error(line) : () => {};

// Local workerd keeps ~3 files open per live session object, plus a socket each way.
const fdLimit = Number(/Max open files\s+(\d+)/.exec(readFileSync("/proc/self/limits", "utf8"))?.[1] ?? "0");
if (fdLimit < sessions * 6) {
  say(`warning: open-file limit ${fdLimit} may be too low for ${sessions} sessions (about ${sessions * 6} needed); raise it with ulimit -n`);
}

interface Sample {
  readonly t: number;
  readonly live: number;
  readonly workerdMiB: number;
  readonly workerdFds: number;
  readonly originsMiB: number[];
  readonly driverMiB: number;
  readonly created: number;
  readonly errors: number;
}

say("building the edge bundle...");
await buildEdge();
const stack = await startChaosStack({
  originCount: 3,
  maxSessionSeconds,
  direct: true,
  // The default health checks: thousands of sessions on a shared 2-core machine make a
  // 400 ms timeout flap, and a flapping pool refuses sessions for no real fault.
  health: { intervalMs: 2_000, timeoutMs: 1_500, rise: 2, fall: 2 },
  // Every soak client comes from 127.0.0.1, one network: thousands of sessions from it are
  // the load under test, not a flood, so no per-network S budget (README, S budget).
  poolSettings: { networkBudget: { sessions: 0 } },
  log,
});
/** S requests in flight at once, across all clients. */
const createGate = new Gate(CREATES_IN_FLIGHT);
say(`soak: ${sessions} sessions (${Math.round(wsShare * 100)}% WebSocket) for ${minutes} min; sessions expire after ${maxSessionSeconds} s, clients leave after ${lifetime.min / 1000}-${lifetime.max / 1000} s`);

const live = new Set<ChaosClient>();
const all: ChaosClient[] = [];
const runs: Array<Promise<void>> = [];
let stopping = false;
let made = 0;

function launch(): void {
  const client = new ChaosClient({
    edgeUrl: stack.edgeUrl,
    transport: Math.random() < wsShare ? "ws" : "sse",
    intervalMs: 1_000,
    emitEveryMs: 30_000,
    livenessMs: 20_000,
    requestTimeoutMs: 20_000,
    createGate,
  });
  made += 1;
  live.add(client);
  all.push(client);
  runs.push(client.run());
  const stay = lifetime.min + Math.random() * (lifetime.max - lifetime.min);
  setTimeout(() => {
    if (stopping) return;
    client.stop();
    live.delete(client);
    launch(); // churn: someone else arrives
  }, stay).unref();
}

const samples: Sample[] = [];
const started = Date.now();
function sample(): void {
  const stats = all.map((c) => c.stats).reduce(mergeStats, emptyStats());
  const workerd = workerdPids();
  samples.push({
    t: (Date.now() - started) / 1000,
    live: [...live].filter((c) => c.origin !== undefined).length,
    workerdMiB: workerd.reduce((n, pid) => n + (rssMiB(pid) ?? 0), 0),
    workerdFds: workerd.reduce((n, pid) => n + (openFds(pid) ?? 0), 0),
    originsMiB: stack.origins.map((o) => rssMiB(o.process.child.pid ?? -1) ?? 0),
    driverMiB: process.memoryUsage().rss / 1024 / 1024,
    created: stats.sessions,
    errors: stats.createFailures + stats.hung,
  });
  const s = samples.at(-1);
  if (s !== undefined) {
    say(`t=${s.t.toFixed(0)}s live=${s.live} created=${s.created} workerd=${s.workerdMiB.toFixed(0)}MiB/${s.workerdFds}fds origins=${s.originsMiB.map((m) => m.toFixed(0)).join("/")}MiB driver=${s.driverMiB.toFixed(0)}MiB errors=${s.errors}`);
  }
}

const sampler = setInterval(sample, sampleEveryMs);
// Ramp up.
for (let i = 0; i < sessions && Date.now() - started < durationMs; i++) {
  launch();
  if (i % RAMP_PER_SECOND === RAMP_PER_SECOND - 1) await sleep(1_000);
}
await sleep(Math.max(0, durationMs - (Date.now() - started)));
stopping = true;
clearInterval(sampler);
sample();
for (const c of all) c.stop();
await Promise.race([Promise.all(runs), sleep(30_000)]);
const stoppedAt = Date.now();

const stats = all.map((c) => c.stats).reduce(mergeStats, emptyStats());
const logs = await Promise.all(stack.origins.map((o) => fetchOriginLog(o.id, o.adminUrl)));
const misrouted = misroutedRequests(logs).length + stats.misrouted;
say(`waiting up to ${Math.ceil(maxSessionSeconds * (1 + EXPIRY_JITTER))} s for the last sessions to expire...`);
await sleep(Math.max(0, stoppedAt + maxSessionSeconds * 1000 * (1 + EXPIRY_JITTER) - Date.now()));
const leaks = await sessionLeaks(stack.edgeUrl, stack.adminToken, all.flatMap((c) => c.history.map((s) => s.token)), { waitMs: 20_000, sample: 500 });
const leftPids = await stack.close();

const result = {
  sessions,
  minutes,
  clients: made,
  sessionsCreated: stats.sessions,
  events: stats.events,
  lost: stats.lost,
  duplicated: stats.duplicated,
  resumed: stats.resumed,
  told: stats.told,
  toldBy: stats.toldBy,
  hung: stats.hung,
  createFailures: stats.createFailures,
  controlRequests: stats.controlRequests,
  misroutedCr: misrouted,
  sessionLeaks: leaks,
  processLeaks: leftPids.length,
  errors: [...new Set(stats.errors)].slice(0, 10),
  samples,
};
const passed = stats.lost === 0 && stats.duplicated === 0 && misrouted === 0 && leaks.leaked === 0 && leftPids.length === 0;

if (values.json) {
  console.log(JSON.stringify({ ...result, passed }, null, 2));
} else {
  const f = (n: number) => n.toFixed(0);
  const picks = samples.filter((_, i) => samples.length <= 12 || i % Math.ceil(samples.length / 12) === 0 || i === samples.length - 1);
  console.log(
    `\nmemory over time (RSS, MiB):\n${table(
      ["t (s)", "live sessions", "workerd", "workerd fds", ...stack.origins.map((o) => o.id), "driver", "sessions created", "errors"],
      picks.map((s) => [f(s.t), s.live, f(s.workerdMiB), s.workerdFds, ...s.originsMiB.map(f), f(s.driverMiB), s.created, s.errors]),
    )}`,
  );
  console.log(
    `\n${table(
      ["sessions", "minutes", "created", "events", "resumed", "told", "hung", "S retried", "lost", "dup", "misrouted CR", "session leaks", "process leaks", "result"],
      [[sessions, minutes, stats.sessions, stats.events, stats.resumed, stats.told, stats.hung, stats.createFailures, stats.lost, stats.duplicated, misrouted, `${leaks.leaked} (registry ${leaks.registered}, ${leaks.activeRecords}/${leaks.checked} records active)`, leftPids.length, passed ? "pass" : "FAIL"]],
    )}`,
  );
  const told = Object.entries(stats.toldBy).map(([k, v]) => `${k} ×${v}`);
  if (told.length > 0) console.log(`told by: ${told.join(", ")}`);
  if (result.errors.length > 0) console.log(`errors (first distinct): ${result.errors.join("; ")}`);
}
process.exit(passed ? 0 : 1);
