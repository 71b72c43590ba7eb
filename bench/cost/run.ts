/**
 * `npm run cost`: the reference session (one WebSocket, one message a second each way, a
 * few CR requests) run for real through a fresh local stack per relay mode, scaled to one
 * session-hour and priced beside an AWS ALB and Cloudflare Load Balancing for the same
 * load (docs/cost.md explains the model and its sources).
 *
 *   npm run cost -- [--quick] [--steady-s N] [--mode edge|object]... [--json] [--no-save] [--prebuilt] [--verbose]
 *
 * It stops by itself (a watchdog bounds the whole run), stops every process it started,
 * prints the table (or JSON) to stdout and writes bench/results/cost-<time>.json.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { REPO_ROOT } from "../../infra/local/edge.ts";
import { startStack, type RunningStack } from "../../infra/local/stack.ts";
import { BALANCE_ORIGIN_ARGS } from "../lib/balance-world.ts";
import { childPids } from "../lib/procs.ts";
import { errorMessage } from "../lib/time.ts";
import { dollars, sessionHour } from "./model.ts";
import { PRICES, PRICES_READ_ON } from "./prices.ts";
import { runReferenceSession, type ReferenceParams } from "./reference-session.ts";
import { costTarget, renderCost, type ModeResult } from "./report.ts";

type RelayMode = "edge" | "object";
const MODES: readonly RelayMode[] = ["edge", "object"];
/** The reference hour's "few" CR requests: the same in every run, so runs compare. */
const CR_REQUESTS = 4;
const PARAMS: Record<"full" | "quick", ReferenceParams> = {
  full: { steadyS: 90, crRequests: CR_REQUESTS, payloadBytes: 64, idleS: 30, timeoutMs: 5_000 },
  quick: { steadyS: 20, crRequests: CR_REQUESTS, payloadBytes: 64, idleS: 10, timeoutMs: 5_000 },
};
/** One origin: the reference session needs one, and fewer processes mean less background CPU. */
const ORIGIN_COUNT = 1;

const USAGE = `usage: npm run cost -- [options]
  --quick          ${PARAMS.quick.steadyS} s steady phase per mode instead of ${PARAMS.full.steadyS} s
  --steady-s N     steady phase length in seconds (10-600)
  --mode NAME      measure only this relay mode (${MODES.join(", ")}); repeatable
  --json           print JSON instead of the table
  --no-save        do not write bench/results/cost-<time>.json
  --prebuilt       the edge bundle in .build/edge is current: skip wrangler's build
  --verbose        pass the edge's and origin's logs to stderr
  --help           this text`;

function fail(message: string): never {
  process.stderr.write(`cost: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function progress(line: string): void {
  process.stderr.write(`[cost] ${line}\n`);
}

/** The pool settings that select `mode`: `edge` is the pool's default, so it sets nothing. */
function settingsFor(mode: RelayMode): { settings: Record<string, unknown> | undefined; label: string } {
  return mode === "object" ? { settings: { relay: "object" }, label: 'relay: "object"' } : { settings: undefined, label: "(pool default)" };
}

async function measureMode(mode: RelayMode, params: ReferenceParams, prebuilt: boolean, log: (line: string) => void, stacks: RunningStack[]): Promise<ModeResult> {
  const { settings, label } = settingsFor(mode);
  const before = new Set(childPids("workerd"));
  let stack: RunningStack;
  try {
    stack = await startStack({ port: 0, originBasePort: 0, originCount: ORIGIN_COUNT, originArgs: BALANCE_ORIGIN_ARGS, prebuilt, log, ...(settings === undefined ? {} : { poolSettings: settings }) });
  } catch (err) {
    return { mode, setting: label, unavailable: `the stack did not start: ${errorMessage(err)}` };
  }
  stacks.push(stack);
  try {
    const pids = childPids("workerd").filter((p) => !before.has(p));
    progress(`${mode}: edge ${stack.edgeUrl} (workerd ${pids.join(",") || "?"}); a warm-up S request, ${params.idleS} s idle, then the reference session`);
    const run = await runReferenceSession({ url: stack.edgeUrl, adminToken: stack.adminToken, pids }, params, (line) => progress(`${mode}: ${line}`));
    const hour = sessionHour(run);
    return {
      mode,
      setting: label,
      measured: { steadyS: run.steady.ms / 1000, messagesEachWay: run.steady.messagesEachWay, failures: run.steady.failures },
      hour,
      dollars: dollars(hour, ORIGIN_COUNT),
      raw: run,
    };
  } catch (err) {
    return { mode, setting: label, unavailable: `the reference session failed: ${errorMessage(err)}` };
  } finally {
    await stack.close();
  }
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        quick: { type: "boolean" },
        "steady-s": { type: "string" },
        mode: { type: "string", multiple: true },
        json: { type: "boolean" },
        "no-save": { type: "boolean" },
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
    return 0;
  }
  const modes = (values.mode ?? [...MODES]).map((m) => MODES.find((x) => x === m) ?? fail(`unknown mode ${JSON.stringify(m)}`));
  const base = PARAMS[values.quick === true ? "quick" : "full"];
  const steadyS = values["steady-s"] === undefined ? base.steadyS : Number(values["steady-s"]);
  if (!Number.isInteger(steadyS) || steadyS < 10 || steadyS > 600) fail("--steady-s must be an integer 10-600");
  const params: ReferenceParams = { ...base, steadyS };
  const verbose = values.verbose === true;
  const log = (line: string): void => {
    if (verbose) process.stderr.write(`${line}\n`);
  };

  // Bounded: every mode's idle spell, session and stack start/stop, with room to spare.
  const watchdogMs = modes.length * (params.idleS + params.steadyS + 120) * 1000;
  const stacks: RunningStack[] = [];
  const watchdog = setTimeout(() => {
    progress(`still running after ${watchdogMs / 1000} s: stopping`);
    void Promise.allSettled(stacks.map((s) => s.close())).finally(() => process.exit(1));
  }, watchdogMs);
  watchdog.unref();

  const startedAt = new Date().toISOString();
  const results: ModeResult[] = [];
  let prebuilt = values.prebuilt === true;
  for (const mode of modes) {
    results.push(await measureMode(mode, params, prebuilt, log, stacks));
    prebuilt = true; // the first stack built the bundle
  }
  clearTimeout(watchdog);

  const command = `npm run cost -- ${process.argv.slice(2).join(" ")}`.trim();
  const header = [
    `push-edge cost — ${startedAt}: reference session per relay mode (1 WebSocket, 1 message/s each way, ${params.crRequests} CR requests), ${params.steadyS} s measured, scaled to one session-hour`,
    `command: ${command}`,
    `prices read ${PRICES_READ_ON} (docs/cost.md); workerd CPU is an upper bound: it includes the session objects, the pool coordinator and the runtime ("net" subtracts workerd's idle rate)`,
  ];
  const target = costTarget(results);
  const json = JSON.stringify({ startedAt, command, params, prices: PRICES, pricesReadOn: PRICES_READ_ON, results, target }, null, 2);
  if (values["no-save"] !== true) {
    const dir = join(REPO_ROOT, "bench", "results");
    await mkdir(dir, { recursive: true });
    const file = join(dir, `cost-${startedAt.replace(/[:.]/g, "-")}.json`);
    await writeFile(file, `${json}\n`);
    progress(`results: ${file}`);
  }
  process.stdout.write(values.json === true ? `${json}\n` : renderCost(results, header));
  return results.some((r) => r.measured !== undefined) ? 0 : 1;
}

process.exitCode = await main();
