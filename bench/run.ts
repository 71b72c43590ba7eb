/**
 * `npm run bench`: the same client workloads sent straight to the reference origins
 * (`direct`), through HAProxy and nginx (Debian's packages, installed when missing),
 * through two platform floors (`floor-worker`, `floor-object`: bench/floors/), through
 * push-edge with the fetch transport (`edge`: the deploy bundle in standalone workerd, the
 * same runner as `npm start`; `edge-object`: the same with `relay: "object"`) and with the
 * tcp transport (`edge-tcp`),
 * side by side, in `--rounds` rounds; mean ± noise, ratios to direct and to HAProxy, and
 * the targets met or missed.
 *
 *   npm run bench -- [--quick] [--json] [--rounds N] [--scenario NAME]... [--target NAME]...
 *                    [--origin-count N] [--prebuilt] [--no-pin] [--no-save] [--write-doc] [--verbose]
 *
 * Everything it starts (two local stacks, HAProxy, nginx, per-scenario worlds) is stopped
 * at the end, also on error, Ctrl-C or the watchdog. Progress goes to stderr; the Markdown
 * (or JSON with --json) to stdout and to bench/results/<time>.{json,md}.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { REPO_ROOT } from "../infra/local/edge.ts";
import { startStack, type RunningStack } from "../infra/local/stack.ts";
import { aggregate } from "./aggregate.ts";
import { writeDoc } from "./doc.ts";
import { checkGoals } from "./goals.ts";
import { currentLoad, machineInfo } from "./machine.ts";
import { renderMarkdown } from "./markdown.ts";
import { renderTable, type ScenarioReport } from "./report.ts";
import type { Mode, Scenario, TargetResult } from "./scenario.ts";
import { crRequests } from "./scenarios/cr-requests.ts";
import { httpStream } from "./scenarios/http-stream.ts";
import { idleCapacity } from "./scenarios/idle-capacity.ts";
import { idleMemory } from "./scenarios/idle-memory.ts";
import { natBalance } from "./scenarios/nat-balance.ts";
import { originRestart } from "./scenarios/origin-restart.ts";
import { poolRecovery } from "./scenarios/pool-recovery.ts";
import { sessionCreate } from "./scenarios/session-create.ts";
import { tlcpUpdates } from "./scenarios/tlcp-updates.ts";
import { wsEcho } from "./scenarios/ws-echo.ts";
import { wsThroughput } from "./scenarios/ws-throughput.ts";
import { monoMs } from "./lib/clock.ts";
import { childPids, pinProcess, proxyCpu } from "./lib/procs.ts";
import { hopDatabases, settleObjects, settledLine } from "./lib/object-settle.ts";
import { startTcpStack } from "./lib/tcp-stack.ts";
import { startEdgeObjectColumn, startFloorColumns, type ColumnContext } from "./lib/more-columns.ts";
import { errorMessage, sleep, within } from "./lib/time.ts";
import { startHaproxy } from "./peers/haproxy.ts";
import { ensurePeerBinaries, type PeerBinary } from "./peers/install.ts";
import { startNginx } from "./peers/nginx.ts";
import type { PeerOptions, PeerOrigin, RunningPeer } from "./peers/peer.ts";
import { runtimeVersions } from "./peers/versions.ts";
import { directTarget } from "./targets/direct.ts";
import { edgeColumn, edgeTarget } from "./targets/edge.ts";
import { edgeTcpTarget } from "./targets/edge-tcp.ts";
import { haproxyTarget } from "./targets/haproxy.ts";
import { nginxTarget } from "./targets/nginx.ts";
import type { Target } from "./targets/target.ts";

// Heaviest last: the 1,000 held sessions of idle-memory take a while to wind down in
// workerd, and the balance scenarios start worlds of their own.
const SCENARIOS: readonly Scenario[] = [wsEcho, wsThroughput, httpStream, crRequests, sessionCreate, tlcpUpdates, idleMemory, idleCapacity, natBalance, originRestart, poolRecovery];
const TARGET_NAMES = ["direct", "haproxy", "nginx", "floor-worker", "floor-object", "edge", "edge-object", "edge-tcp"] as const;
/** Past this the run is stuck: report, close what was started, exit non-zero. */
const WATCHDOG_MS_PER_ROUND: Record<Mode, number> = { full: 2_700_000, quick: 300_000 };
/**
 * Longest wait for a hop's objects to go to sleep after a run (bench/lib/object-settle.ts):
 * local workerd closed the databases of a hundred objects 10–20 s after their last request.
 * A wait that reaches it is reported, not an error.
 */
const OBJECT_SETTLE_TIMEOUT_MS = 30_000;
/** Origins must not refuse sessions for being full: the bench creates a few thousand. */
const ORIGIN_ARGS = ["--capacity", "100000"];

const USAGE = `usage: npm run bench -- [options]
  --quick             short smoke run (1 round, small counts)
  --json              print machine-readable results instead of Markdown
  --rounds N          rounds (default 2; 1 with --quick)
  --scenario NAME     run only this scenario (${SCENARIOS.map((s) => s.name).join(", ")}); repeatable
  --target NAME       measure only this column (${TARGET_NAMES.join(", ")}); repeatable
  --origin-count N    reference origins to start (default 3)
  --prebuilt          the edge bundle in .build/edge is current: skip wrangler's build
  --no-pin            do not pin the proxies (HAProxy, nginx, workerd) to one CPU with taskset
  --no-save           do not write bench/results/<time>.{json,md}
  --write-doc         replace the figures in docs/performance.md with this run's
  --verbose           pass the edge's and origins' logs to stderr
  --help              this text`;

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n${USAGE}\n`);
  process.exit(2);
}

interface Cli {
  readonly mode: Mode;
  readonly json: boolean;
  readonly rounds: number;
  readonly scenarios: readonly Scenario[];
  readonly targets: ReadonlySet<string>;
  readonly originCount: number;
  readonly prebuilt: boolean;
  readonly pin: boolean;
  readonly save: boolean;
  readonly writeDoc: boolean;
  readonly verbose: boolean;
}

function parseCli(): Cli | undefined {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        quick: { type: "boolean" },
        json: { type: "boolean" },
        rounds: { type: "string" },
        scenario: { type: "string", multiple: true },
        target: { type: "string", multiple: true },
        "origin-count": { type: "string" },
        prebuilt: { type: "boolean" },
        "no-pin": { type: "boolean" },
        "no-save": { type: "boolean" },
        "write-doc": { type: "boolean" },
        verbose: { type: "boolean" },
        help: { type: "boolean" },
      },
      strict: true,
    }));
  } catch (err) {
    fail(errorMessage(err));
  }
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return undefined;
  }
  const names = values.scenario ?? SCENARIOS.map((s) => s.name);
  const scenarios = names.map((name) => SCENARIOS.find((s) => s.name === name) ?? fail(`unknown scenario ${JSON.stringify(name)}`));
  const targets = values.target ?? [...TARGET_NAMES];
  for (const t of targets) if (!(TARGET_NAMES as readonly string[]).includes(t)) fail(`unknown target ${JSON.stringify(t)}`);
  const originCount = Number(values["origin-count"] ?? "3");
  if (!Number.isInteger(originCount) || originCount < 1 || originCount > 16) fail("--origin-count must be an integer 1-16");
  const mode: Mode = values.quick === true ? "quick" : "full";
  const rounds = Number(values.rounds ?? (mode === "quick" ? "1" : "2"));
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 5) fail("--rounds must be an integer 1-5");
  return {
    mode,
    json: values.json === true,
    rounds,
    scenarios,
    targets: new Set(targets),
    originCount,
    prebuilt: values.prebuilt === true,
    pin: values["no-pin"] !== true,
    save: values["no-save"] !== true,
    writeDoc: values["write-doc"] === true,
    verbose: values.verbose === true,
  };
}

function progress(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

async function runScenario(scenario: Scenario, mode: Mode, targets: readonly Target[]): Promise<ScenarioReport> {
  const prepared = scenario.prepare(mode);
  const results: TargetResult[] = [];
  for (const target of targets) {
    progress(`${scenario.name} → ${target.name}`);
    const databases = hopDatabases(target.pids?.() ?? []);
    const baseline = databases() ?? 0;
    const t0 = monoMs();
    try {
      results.push(await prepared.run(target, (line) => progress(`  ${line}`)));
    } catch (err) {
      // A scenario that throws still leaves a column: empty, with the reason.
      results.push({ target: target.name, metrics: [], errorCount: 1, errors: [`aborted: ${errorMessage(err)}`], elapsedMs: monoMs() - t0 });
    }
    // Let the previous target's sockets finish closing before the next one is measured.
    await sleep(250);
    // And the objects this run woke go to sleep, so that closing them is not measured as part
    // of the next run on this machine (bench/lib/object-settle.ts).
    // A --quick smoke run's figures are not compared, and it stays short.
    if (mode === "quick") continue;
    const settled = await settleObjects(databases, baseline, OBJECT_SETTLE_TIMEOUT_MS);
    if (settled.waitedMs > 0) progress(`  ${settledLine(target.name, "objects", settled, OBJECT_SETTLE_TIMEOUT_MS)}`);
  }
  return { name: scenario.name, title: scenario.title, summary: prepared.summary, params: prepared.params, results };
}

/** Starts a peer if its binary is there; records why not otherwise. */
async function startPeer(
  name: "haproxy" | "nginx",
  binary: PeerBinary,
  origins: readonly PeerOrigin[],
  cpu: number | undefined,
  unavailable: string[],
): Promise<{ peer: RunningPeer; start: (o: readonly PeerOrigin[]) => Promise<RunningPeer> } | undefined> {
  if (!binary.ok) {
    unavailable.push(`${name}: ${binary.reason}`);
    return undefined;
  }
  const start = (o: readonly PeerOrigin[]): Promise<RunningPeer> => {
    const options: PeerOptions = { binary: binary.path, version: binary.version, origins: o, cpu };
    return name === "haproxy" ? startHaproxy(options) : startNginx(options);
  };
  try {
    return { peer: await start(origins), start };
  } catch (err) {
    unavailable.push(`${name}: did not start (${errorMessage(err)})`);
    return undefined;
  }
}

/** Everything the report needs besides the rounds. */
interface RunContext {
  readonly cli: Cli;
  readonly startedAt: string;
  readonly machine: ReturnType<typeof machineInfo>;
  readonly versions: string;
  readonly pinning: string;
  readonly unavailable: readonly string[];
  readonly targets: readonly Target[];
}

/** Renders the rounds so far and (unless --no-save) writes them to bench/results/. */
async function report(ctx: RunContext, rounds: ReadonlyArray<readonly ScenarioReport[]>): Promise<{ markdown: string; json: string }> {
  const { cli, startedAt, machine, versions, pinning, unavailable, targets } = ctx;
  const names = targets.map((t) => t.name);
  const agg = aggregate(rounds, names);
  const goals = checkGoals(agg);
  const loadAfter = currentLoad();
  const prepared = cli.scenarios.map((s) => ({ name: s.name, title: s.title, ...s.prepare(cli.mode) }));
  const markdown = renderMarkdown(
    {
      startedAt,
      mode: cli.mode,
      rounds: rounds.length,
      machine: `${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, ${machine.platform}`,
      versions,
      pinning,
      targets: targets.map((t) => ({ name: t.name, path: t.path })),
      unavailable,
      scenarios: prepared.map((s) => ({ title: s.title, summary: s.summary })),
      load: `1-minute load average ${machine.loadAvg1m.toFixed(2)} before, ${loadAfter.toFixed(2)} after (other work on the machine makes figures noisy)`,
    },
    agg,
    goals,
    new Map(prepared.map((s) => [s.name, s.title])),
  );
  const json = JSON.stringify(
    { startedAt, mode: cli.mode, rounds: rounds.length, machine, versions, pinning, loadAvg1mAfter: loadAfter, unavailable, targets: targets.map((t) => ({ name: t.name, path: t.path })), figures: agg.figures, goals, errors: agg.errors, raw: rounds },
    (_key, value: unknown) => (typeof value === "number" && !Number.isFinite(value) ? String(value) : value),
    2,
  );
  if (cli.save) {
    const dir = join(REPO_ROOT, "bench", "results");
    await mkdir(dir, { recursive: true });
    const stamp = startedAt.replace(/[:.]/g, "-");
    await writeFile(join(dir, `${stamp}.json`), `${json}\n`);
    await writeFile(join(dir, `${stamp}.md`), markdown);
    progress(`results (${rounds.length} round${rounds.length === 1 ? "" : "s"}): bench/results/${stamp}.{json,md}`);
  }
  return { markdown, json };
}

async function main(): Promise<number> {
  // Every origin and proxy child adds an exit hook (so none outlives the run); the balance
  // scenarios start a few worlds of them, past Node's default warning threshold of 10.
  process.setMaxListeners(64);
  const cli = parseCli();
  if (cli === undefined) return 0;
  const machine = machineInfo();
  const startedAt = new Date().toISOString();
  const recentLogs: string[] = [];
  const log = (line: string): void => {
    if (cli.verbose) process.stderr.write(`${line}\n`);
    recentLogs.push(line);
    if (recentLogs.length > 40) recentLogs.shift();
  };

  const closers: Array<() => Promise<void>> = [];
  let closing: Promise<void> | undefined;
  const closeAll = (): Promise<void> => {
    closing ??= within(20_000, "the stacks and peers to close", Promise.all(closers.map((c) => c())).then(() => {})).catch((err: unknown) =>
      progress(errorMessage(err)),
    );
    return closing;
  };
  const abort = (why: string, code: number): void => {
    progress(why);
    void closeAll().finally(() => process.exit(code));
  };
  const watchdogMs = WATCHDOG_MS_PER_ROUND[cli.mode] * cli.rounds;
  const watchdog = setTimeout(() => abort(`still running after ${watchdogMs / 1000} s: stopping`, 1), watchdogMs);
  watchdog.unref();
  process.once("SIGINT", () => abort("interrupted", 130));
  process.once("SIGTERM", () => abort("terminated", 143));

  const rounds: ScenarioReport[][] = [];
  const unavailable: string[] = [];
  let targets: Target[] = [];
  let pinning = "none";
  let versions = runtimeVersions();
  try {
    const cpu = cli.pin ? proxyCpu() : undefined;
    pinning =
      cpu === undefined
        ? cli.pin
          ? "none (taskset missing or a single CPU)"
          : "none (--no-pin)"
        : `HAProxy, nginx and workerd pinned to CPU ${cpu} (taskset); the client and the origins float`;
    const wantPeers = cli.targets.has("haproxy") || cli.targets.has("nginx");
    const binaries = wantPeers ? await ensurePeerBinaries(progress) : undefined;

    progress(`starting ${cli.originCount} reference origins and the edge${cli.prebuilt ? "" : " (building the Worker bundle)"}...`);
    const t0 = monoMs();
    const workerdBefore = new Set(childPids("workerd"));
    // The edge column's own pool settings (no per-network S budget: every bench client is 127.0.0.1).
    const stack: RunningStack = await startStack({
      port: 0,
      originBasePort: 0,
      originCount: cli.originCount,
      originArgs: ORIGIN_ARGS,
      prebuilt: cli.prebuilt,
      poolSettings: edgeColumn(undefined).settings,
      log,
    });
    closers.push(() => stack.close());
    const edgePids = childPids("workerd").filter((p) => !workerdBefore.has(p));
    progress(`stack ready in ${((monoMs() - t0) / 1000).toFixed(1)} s: edge ${stack.edgeUrl} (workerd ${edgePids.join(",") || "pid unknown"})`);

    targets.push(directTarget(stack.origins));
    if (binaries !== undefined) {
      for (const name of ["haproxy", "nginx"] as const) {
        if (!cli.targets.has(name)) continue;
        const started = await startPeer(name, binaries[name], stack.origins, cpu, unavailable);
        if (started === undefined) continue;
        closers.push(() => started.peer.stop());
        targets.push(name === "haproxy" ? haproxyTarget(started.peer, started.start) : nginxTarget(started.peer, started.start));
        versions += `, ${name} ${started.peer.version}`;
        progress(`${name} ready: ${started.peer.url} (pid ${started.peer.pids().join(",")})`);
      }
    }
    const columns: ColumnContext = { wanted: cli.targets, origins: stack.origins, cpu, log, progress, closers, unavailable };
    targets.push(...(await startFloorColumns(columns)));
    targets.push(edgeTarget(stack.edgeUrl, () => edgePids));
    const edgeObject = await startEdgeObjectColumn(columns);
    if (edgeObject !== undefined) targets.push(edgeObject);
    if (cli.targets.has("edge-tcp")) {
      const before = new Set(childPids("workerd"));
      // The bundle is built by now: the tcp stack reuses it.
      const tcp = await startTcpStack({ port: 0, originBasePort: 0, originCount: cli.originCount, originArgs: ORIGIN_ARGS, prebuilt: true, poolSettings: edgeColumn(undefined).settings, log });
      closers.push(() => tcp.close());
      const tcpPids = childPids("workerd").filter((p) => !before.has(p));
      targets.push(edgeTcpTarget(tcp.edgeUrl, () => tcpPids));
      progress(`tcp stack ready: edge ${tcp.edgeUrl}`);
      if (cpu !== undefined) for (const pid of tcpPids) pinProcess(pid, cpu);
    }
    if (cpu !== undefined) for (const pid of edgePids) if (!pinProcess(pid, cpu)) pinning += ` (pinning workerd ${pid} failed)`;
    targets = targets.filter((t) => cli.targets.has(t.name));
    for (const u of unavailable) progress(`UNAVAILABLE ${u}`);

    for (let round = 1; round <= cli.rounds; round++) {
      progress(`round ${round}/${cli.rounds}`);
      const reports: ScenarioReport[] = [];
      for (const scenario of cli.scenarios) reports.push(await runScenario(scenario, cli.mode, targets));
      rounds.push(reports);
      process.stderr.write(`\nround ${round}:\n${renderTable(targets.map((t) => t.name), reports)}\n\n`);
      // A run cut short (watchdog, Ctrl-C) still leaves the finished rounds on disk.
      if (round < cli.rounds) await report({ cli, startedAt, machine, versions, pinning, unavailable, targets }, rounds);
    }
  } catch (err) {
    progress(`failed: ${errorMessage(err)}`);
    if (!cli.verbose && recentLogs.length > 0) progress(`last stack log lines:\n${recentLogs.join("\n")}`);
    await closeAll();
    clearTimeout(watchdog);
    return 1;
  }
  await closeAll();
  clearTimeout(watchdog);

  const ctx: RunContext = { cli, startedAt, machine, versions, pinning, unavailable, targets };
  const { markdown, json } = await report(ctx, rounds);
  if (cli.writeDoc) {
    await writeDoc(markdown);
    progress("docs/performance.md: figures replaced with this run's");
  }
  process.stdout.write(cli.json ? `${json}\n` : markdown);
  return 0;
}

process.exitCode = await main();
