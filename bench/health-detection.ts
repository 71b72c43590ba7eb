/**
 * How fast the default health check (a TCP connect; no /health on the origin) sees an
 * unmodified Socket.IO server go down and come back, with no client traffic at all (so
 * passive health plays no part): three plain Socket.IO servers behind the local stack,
 * one SIGKILLed, then restarted on its port. Prints one JSON line of milliseconds.
 *
 *   node bench/health-detection.ts [--runs N]
 *
 * Needs the edge bundle (`node -e "import('./infra/local/edge.ts').then(m=>m.buildEdge())"`).
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { REPO_ROOT } from "../infra/local/edge.ts";
import { startReadyProcess, type OriginProcess } from "../infra/local/origin-process.ts";
import { startStack } from "../infra/local/stack.ts";

const SERVER = join(REPO_ROOT, "test", "integration", "support", "plain-socketio-server.ts");
const { values } = parseArgs({ options: { runs: { type: "string" } } });
const runs = Number(values.runs ?? "3");

async function healthyOf(edgeUrl: string, token: string, id: string): Promise<boolean | undefined> {
  const res = await fetch(`${edgeUrl}/_edge/admin/pool`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json()) as { pools: Array<{ origins: Array<{ id: string; healthy: boolean; checkedAt: number }> }> };
  const o = body.pools[0]?.origins.find((x) => x.id === id);
  return o === undefined || o.checkedAt === 0 ? undefined : o.healthy;
}

async function waitFor(check: () => Promise<boolean>, limitMs: number): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > limitMs) throw new Error(`not within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - started;
}

let servers: OriginProcess[] = await Promise.all(["s1", "s2", "s3"].map((id) => startReadyProcess(SERVER, id, ["--id", id])));
const stack = await startStack({ port: 0, prebuilt: true, origins: servers.map((s) => ({ id: s.id, url: s.url })) });
const results: Array<{ firstS: number; down: number; up: number }> = [];
try {
  const t0 = Date.now();
  const first = await fetch(`${stack.edgeUrl}/socket.io/?EIO=4&transport=polling`);
  await first.text();
  const firstS = Date.now() - t0;
  for (let i = 0; i < runs; i++) {
    const victim = servers[0];
    if (victim === undefined) throw new Error("no server");
    await waitFor(async () => (await healthyOf(stack.edgeUrl, stack.adminToken, victim.id)) === true, 30_000);
    victim.child.kill("SIGKILL");
    const down = await waitFor(async () => (await healthyOf(stack.edgeUrl, stack.adminToken, victim.id)) === false, 30_000);
    const restarted = await startReadyProcess(SERVER, victim.id, ["--id", victim.id, "--port", new URL(victim.url).port]);
    servers = [restarted, ...servers.slice(1)];
    const up = await waitFor(async () => (await healthyOf(stack.edgeUrl, stack.adminToken, victim.id)) === true, 30_000);
    results.push({ firstS: i === 0 ? firstS : 0, down, up });
  }
  process.stdout.write(`${JSON.stringify({ settings: "default (intervalMs 2000, timeoutMs 1500, rise 2, fall 2)", firstS, runs: results.map(({ down, up }) => ({ down, up })) })}\n`);
} finally {
  await stack.close();
  await Promise.all(servers.map((s) => s.stop()));
}
