/**
 * `npm run chaos [-- --quick] [--scenario NAME] [--json] [--verbose]`: runs the chaos
 * scenarios one after the other, each on a fresh local stack with a hard time limit,
 * prints scenario → sessions, resumed, told, hung, lost, duplicated, misrouted CR, leaks,
 * and exits 1 if any scenario broke a promise (lost/duplicated events, hung sessions,
 * misrouted CR, leaked sessions or processes, or its fault did not have its effect).
 */
import { buildEdge } from "../infra/local/edge.ts";
import { parseCommandLine } from "./lib/cli-args.ts";
import { chaosTable, details } from "./report.ts";
import { runScenario, scenarioLimitMs, type Scenario, type ScenarioResult } from "./scenario.ts";
import { SCENARIOS } from "./scenarios/index.ts";
import { runSlowConsumer, slowConsumerReport } from "./slow-consumer.ts";

const USAGE = `usage: npm run chaos -- [--quick] [--scenario NAME ...] [--relay edge|object] [--json] [--verbose]
  --quick          a few seconds of fault per scenario (about 2 minutes in all)
  --scenario NAME  run only this one (repeatable): ${[...SCENARIOS.map((s) => s.name), "slow-consumer"].join(", ")}
  --relay MODE     the pool's relay mode: edge (the default) or object (docs/relay-modes.md)
  --json           print the results as JSON
  --verbose        show the edge's and origins' output
Exit code 1 if any scenario lost, duplicated or misrouted anything, hung, leaked, or its fault had no effect.`;

const values = parseCommandLine(USAGE, {
  quick: { type: "boolean", default: false },
  scenario: { type: "string", multiple: true },
  json: { type: "boolean", default: false },
  verbose: { type: "boolean", default: false },
  relay: { type: "string" },
});
const relay = values.relay;
if (relay !== undefined && relay !== "edge" && relay !== "object") {
  console.error(`--relay: expected edge or object, got ${JSON.stringify(relay)}`);
  process.exit(2);
}

const names = values.scenario ?? [];
const known = [...SCENARIOS.map((s) => s.name), "slow-consumer"];
for (const n of names) {
  if (!known.includes(n)) {
    console.error(`--scenario: unknown scenario ${JSON.stringify(n)}; one of ${known.join(", ")}`);
    process.exit(2);
  }
}
const picked: Scenario[] = SCENARIOS.filter((s) => names.length === 0 || names.includes(s.name));
const withSlowConsumer = names.length === 0 || names.includes("slow-consumer");
const quick = values.quick;
const say = (line: string): void => {
  if (!values.json) console.log(line);
};
const log = values.verbose ? (line: string) => console.error(line) : () => {};

say("building the edge bundle...");
await buildEdge();
const results: ScenarioResult[] = [];
for (const scenario of picked) {
  say(`scenario ${scenario.name}: ${scenario.description}`);
  const limit = scenarioLimitMs(quick);
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    runScenario(scenario, { quick, log, ...(relay === undefined ? {} : { relay }) }),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`scenario ${scenario.name} exceeded its ${limit} ms limit`)), limit);
    }),
  ]).catch((err: unknown) => {
    // Its processes may still run: stop here rather than start the next on top of them.
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
  clearTimeout(timer);
  results.push(result);
}
const slow = withSlowConsumer ? await runSlowConsumer({ quick, log }) : undefined;

if (values.json) {
  console.log(JSON.stringify({ quick, results, slowConsumer: slow }, null, 2));
} else {
  if (results.length > 0) {
    console.log(`\n${chaosTable(results)}\n\n${details(results)}`);
  }
  if (slow !== undefined) console.log(`\n${slowConsumerReport(slow)}`);
}
const failed = results.filter((r) => !r.passed).map((r) => r.scenario);
if (slow !== undefined && !slow.passed) failed.push("slow-consumer");
if (failed.length > 0) {
  console.error(`chaos: FAILED ${failed.join(", ")}`);
  process.exit(1);
}
say("chaos: all scenarios passed (0 lost, 0 duplicated, 0 hung, 0 misrouted, 0 leaked)");
process.exit(0);
