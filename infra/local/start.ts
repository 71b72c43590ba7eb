/**
 * `npm start`: the local stack — 3 reference origins and the edge at
 * http://127.0.0.1:8787 — until Ctrl-C (SIGINT) or SIGTERM, which stop everything it
 * started (supervise.ts: also when its parent dies, or it is killed outright).
 *
 *   npm start -- [--port N] [--origin-count N] [--origin-port N] [--origins id=url,...] [--verbose]
 */
import { parseArgs } from "node:util";
import { reportFirstChecks } from "./first-checks.ts";
import { startOrphanGuard } from "./orphan-guard.ts";
import { DEFAULT_DEMO_PORT, DEFAULT_EDGE_PORT, DEFAULT_ORIGIN_BASE_PORT, DEFAULT_ORIGIN_COUNT, startStack, type RunningStack } from "./stack.ts";
import { supervise, superviseStartup } from "./supervise.ts";

const USAGE = `usage: npm start -- [options]
  --port N            edge port (default ${DEFAULT_EDGE_PORT})
  --origin-count N    reference origins to start (default ${DEFAULT_ORIGIN_COUNT})
  --origin-port N     first reference origin's port, then N+1... (default ${DEFAULT_ORIGIN_BASE_PORT}; 0 = any free)
  --origins LIST      id=url,id=url: use these origins instead of starting reference origins
  --demo-port N       port of the demo page (Lightstreamer web client) (default ${DEFAULT_DEMO_PORT}; 0 = any free)
  --host ADDR         address to bind (default 127.0.0.1)
  --verbose           print the edge's and origins' logs
  --help              this text`;

function fail(message: string): never {
  process.stderr.write(`push-edge: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function positiveInt(flag: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > 65535) fail(`${flag} must be an integer between ${min} and 65535 (got ${JSON.stringify(raw)})`);
  return n;
}

function parseOrigins(raw: string): Array<{ id: string; url: string }> {
  return raw.split(",").map((pair) => {
    const eq = pair.indexOf("=");
    const id = pair.slice(0, eq).trim();
    const url = pair.slice(eq + 1).trim();
    if (eq <= 0 || url === "") fail(`--origins: expected id=url, got ${JSON.stringify(pair)}`);
    try {
      new URL(url);
    } catch {
      fail(`--origins: ${JSON.stringify(url)} is not a URL`);
    }
    return { id, url };
  });
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: "string" },
        "origin-count": { type: "string" },
        "origin-port": { type: "string" },
        "demo-port": { type: "string" },
        origins: { type: "string" },
        host: { type: "string" },
        verbose: { type: "boolean" },
        help: { type: "boolean" },
      },
      strict: true,
    }));
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const port = positiveInt("--port", values.port, DEFAULT_EDGE_PORT, 0);
  const originCount = positiveInt("--origin-count", values["origin-count"], DEFAULT_ORIGIN_COUNT, 1);
  const originBasePort = positiveInt("--origin-port", values["origin-port"], DEFAULT_ORIGIN_BASE_PORT, 0);
  const demoPort = positiveInt("--demo-port", values["demo-port"], DEFAULT_DEMO_PORT, 0);
  const origins = values.origins === undefined ? undefined : parseOrigins(values.origins);
  const verbose = values.verbose === true;

  process.stdout.write(
    origins === undefined
      ? `push-edge: starting ${originCount} reference origins and the edge (building the Worker bundle)...\n`
      : `push-edge: starting the edge in front of ${origins.length} external origins (building the Worker bundle)...\n`,
  );
  // Started before the stack, so that it outlives this process whichever way it ends.
  const guard = startOrphanGuard();
  const starting = superviseStartup(guard);
  let stack: RunningStack;
  try {
    stack = await startStack({
      port,
      originCount,
      originBasePort,
      demoPort,
      ...(origins === undefined ? {} : { origins }),
      ...(values.host === undefined ? {} : { host: values.host }),
      log: verbose ? (line) => process.stdout.write(`${line}\n`) : undefined,
    });
  } catch (err) {
    process.stderr.write(`push-edge: could not start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }

  // Before the ready line: from then on, any way this process ends also ends the stack.
  starting.end();
  supervise(stack, guard);
  for (const o of stack.origins) {
    // Its /admin/state and /_debug/requests answer only on the admin listener (docs/security.md F2).
    const adminUrl = stack.processes.find((p) => p.id === o.id)?.adminUrl;
    process.stdout.write(`  origin ${o.id}  ${o.url}${adminUrl === undefined ? "" : `  (admin: ${adminUrl})`}\n`);
  }
  process.stdout.write(`  admin token (dev only): ${stack.adminToken}\n`);
  process.stdout.write(`  try: curl -i -X POST ${stack.edgeUrl}/session\n`);
  if (stack.demo !== undefined) process.stdout.write(`  demo (Lightstreamer web client): ${stack.demo.page(stack.edgeUrl)}\n`);
  process.stdout.write(`push-edge ready: edge ${stack.edgeUrl}\n`);
  // Once: an origin that fails its first health checks is named, with why (issue 13).
  void reportFirstChecks(stack.edgeUrl, stack.adminToken, (line) => process.stderr.write(`${line}\n`));

}

void main();
