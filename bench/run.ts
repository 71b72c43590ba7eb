/**
 * `npm run bench`: the same client workloads sent straight to the reference origins,
 * through the edge with the fetch transport, and through the edge with the tcp transport
 * (signed PROXY v2 to origins that require it), side by side. The origins' own delay is
 * in every column, so the difference is what the hop costs.
 *
 *   npm run bench -- [--quick] [--json] [--scenario NAME] [--origin-count N] [--prebuilt] [--verbose]
 *
 * Two local stacks (fetch origins, PROXY-only origins) serve the whole run and are closed
 * at the end, also on error or Ctrl-C.
 * Progress goes to stderr; the table (or JSON with --json) to stdout.
 */
import { parseArgs } from "node:util";
import { startStack, type RunningStack } from "../infra/local/stack.ts";
import { currentLoad, machineInfo } from "./machine.ts";
import { renderTable, type ScenarioReport } from "./report.ts";
import type { Mode, Scenario, TargetResult } from "./scenario.ts";
import { httpStream } from "./scenarios/http-stream.ts";
import { sessionCreate } from "./scenarios/session-create.ts";
import { poolRecovery } from "./scenarios/pool-recovery.ts";
import { tlcpUpdates } from "./scenarios/tlcp-updates.ts";
import { wsEcho } from "./scenarios/ws-echo.ts";
import { monoMs } from "./lib/clock.ts";
import { errorMessage, sleep, within } from "./lib/time.ts";
import { directTarget } from "./targets/direct.ts";
import { edgeTarget } from "./targets/edge.ts";
import { edgeTcpTarget } from "./targets/edge-tcp.ts";
import { startTcpStack } from "./lib/tcp-stack.ts";
import type { Target } from "./targets/target.ts";

const SCENARIOS: readonly Scenario[] = [wsEcho, httpStream, sessionCreate, tlcpUpdates, poolRecovery];
/** Past this the run is stuck: report, close what was started, exit non-zero. */
const WATCHDOG_MS: Record<Mode, number> = { full: 420_000, quick: 180_000 };
/** Origins must not refuse sessions for being full: the bench creates a few thousand. */
const ORIGIN_ARGS = ["--capacity", "100000"];

const USAGE = `usage: npm run bench -- [options]
  --quick             short smoke run (~20 s)
  --json              print machine-readable results instead of the table
  --scenario NAME     run only this scenario (${SCENARIOS.map((s) => s.name).join(", ")}); repeatable
  --origin-count N    reference origins to start (default 3)
  --prebuilt          the edge bundle in .build/edge is current: skip wrangler's build
  --verbose           pass the edge's and origins' logs to stderr
  --help              this text`;

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n${USAGE}\n`);
  process.exit(2);
}

interface Cli {
  readonly mode: Mode;
  readonly json: boolean;
  readonly scenarios: readonly Scenario[];
  readonly originCount: number;
  readonly prebuilt: boolean;
  readonly verbose: boolean;
}

function parseCli(): Cli | undefined {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        quick: { type: "boolean" },
        json: { type: "boolean" },
        scenario: { type: "string", multiple: true },
        "origin-count": { type: "string" },
        prebuilt: { type: "boolean" },
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
  const originCount = Number(values["origin-count"] ?? "3");
  if (!Number.isInteger(originCount) || originCount < 1 || originCount > 16) fail("--origin-count must be an integer 1-16");
  return {
    mode: values.quick === true ? "quick" : "full",
    json: values.json === true,
    scenarios,
    originCount,
    prebuilt: values.prebuilt === true,
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
    const t0 = monoMs();
    try {
      results.push(await prepared.run(target, (line) => progress(`  ${line}`)));
    } catch (err) {
      // A scenario that throws still leaves a column: empty, with the reason.
      results.push({ target: target.name, metrics: [], errorCount: 1, errors: [`aborted: ${errorMessage(err)}`], elapsedMs: monoMs() - t0 });
    }
    // Let the previous target's sockets finish closing before the next one is measured.
    await sleep(250);
  }
  return { name: scenario.name, title: scenario.title, summary: prepared.summary, params: prepared.params, results };
}

async function main(): Promise<number> {
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

  const stacks: RunningStack[] = [];
  let closing: Promise<void> | undefined;
  const closeStack = (): Promise<void> => {
    closing ??= within(15_000, "the stacks to close", Promise.all(stacks.map((s) => s.close())).then(() => {})).catch((err: unknown) =>
      progress(errorMessage(err)),
    );
    return closing;
  };
  const abort = (why: string, code: number): void => {
    progress(why);
    void closeStack().finally(() => process.exit(code));
  };
  const watchdog = setTimeout(() => abort(`still running after ${WATCHDOG_MS[cli.mode] / 1000} s: stopping`, 1), WATCHDOG_MS[cli.mode]);
  watchdog.unref();
  process.once("SIGINT", () => abort("interrupted", 130));
  process.once("SIGTERM", () => abort("terminated", 143));

  const reports: ScenarioReport[] = [];
  let targets: Target[] = [];
  try {
    progress(`starting ${cli.originCount} reference origins and the edge${cli.prebuilt ? "" : " (building the Worker bundle)"}...`);
    const t0 = monoMs();
    const stack = await startStack({ port: 0, originBasePort: 0, originCount: cli.originCount, originArgs: ORIGIN_ARGS, prebuilt: cli.prebuilt, log });
    stacks.push(stack);
    progress(`stack ready in ${((monoMs() - t0) / 1000).toFixed(1)} s: edge ${stack.edgeUrl}, origins ${stack.origins.map((o) => `${o.id}=${o.url}`).join(" ")}`);
    // The bundle is built by now: the tcp stack reuses it.
    const tcp = await startTcpStack({ port: 0, originBasePort: 0, originCount: cli.originCount, originArgs: ORIGIN_ARGS, prebuilt: true, log });
    stacks.push(tcp);
    progress(`tcp stack ready: edge ${tcp.edgeUrl}, PROXY-only origins ${tcp.origins.map((o) => `${o.id}=${o.url}`).join(" ")}`);
    targets = [directTarget(stack.origins), edgeTarget(stack.edgeUrl), edgeTcpTarget(tcp.edgeUrl)];
    for (const scenario of cli.scenarios) reports.push(await runScenario(scenario, cli.mode, targets));
  } catch (err) {
    progress(`failed: ${errorMessage(err)}`);
    if (!cli.verbose && recentLogs.length > 0) progress(`last stack log lines:\n${recentLogs.join("\n")}`);
    await closeStack();
    clearTimeout(watchdog);
    return 1;
  }
  await closeStack();
  clearTimeout(watchdog);

  const loadAfter = currentLoad();
  if (cli.json) {
    process.stdout.write(
      `${JSON.stringify({ startedAt, mode: cli.mode, machine, loadAvg1mAfter: loadAfter, targets: targets.map((t) => ({ name: t.name, path: t.path })), scenarios: reports }, null, 2)}\n`,
    );
  } else {
    const header = [
      `push-edge bench (${cli.mode}) — ${startedAt}`,
      `machine: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, ${machine.platform}, node ${machine.node}; load avg 1m ${machine.loadAvg1m.toFixed(2)} before, ${loadAfter.toFixed(2)} after`,
      `stacks:  2 × (${cli.originCount} reference origins (child processes) + edge in workerd (Miniflare)), all on 127.0.0.1; client in this process`,
      ...targets.map((t) => `target:  ${t.name.padEnd(8)} ${t.path}`),
      `note:    the origin's own delay is in every column; "edge − direct" is what the edge hop costs; edge vs edge-tcp is fetch vs tcp transport`,
      "",
    ];
    process.stdout.write(`${header.join("\n")}${renderTable(targets.map((t) => t.name), reports)}\n`);
  }
  return 0;
}

process.exitCode = await main();
