/**
 * A/B micro-benchmark of the relay path: two (or more) builds of the edge (e.g. before and
 * after one change) run side by side against the same reference origins, and the same workloads are
 * sent to each in alternating rounds, so that a busy machine slows both alike. Medians over
 * the rounds are printed per build: rates and latencies (wall clock: noisy when the machine
 * is busy) and the workerd process's CPU time per operation (much steadier: CPU a request
 * does not use is not counted, whoever else runs).
 *
 *   node tools/profile/relay-path.ts --build .build/a --build .build/b [--build ...] [--rounds 5] [--only create,cr,ws,wsrate] [--keys hs256|es256]
 *
 * `--keys`: the affinity tokens' algorithm. The local stack's keys are HS256 (an HMAC);
 * `es256` signs with a P-256 key made for the run.
 *
 * Each build dir (under the repository's .build/; one under /tmp failed to start here) holds an `index.js` from `wrangler deploy --dry-run --outdir <dir>`.
 * Workloads: `create` S requests (POST /session) at a fixed concurrency; `cr` small CR
 * requests (GET /session/:id with the token) on one session; `ws` WebSocket echo round
 * trips through one session object; `wsrate` echo throughput with a window of messages in
 * flight. This measures, it asserts nothing: figures go to docs/performance-relay-path.md.
 */
import { performance } from "node:perf_hooks";
import { WebSocket } from "ws";
import { startEdge, type RunningEdge } from "../../infra/local/edge.ts";
import { startOriginProcess, type OriginProcess } from "../../infra/local/origin-process.ts";
import { DEV_AFFINITY_KEYS, DEV_SIGNING_KID, DEV_ADMIN_TOKEN } from "../../infra/local/dev-secrets.ts";
import { cpuMs, withNewWorkerd } from "./workerd-process.ts";
import { toolArgs } from "./tool-args.ts";

const values = toolArgs(
  import.meta.url,
  {
    build: { type: "string", multiple: true },
    rounds: { type: "string", default: "5" },
    only: { type: "string", default: "create,cr,ws,wsrate" },
    "create-count": { type: "string", default: "300" },
    concurrency: { type: "string", default: "8" },
    "cr-count": { type: "string", default: "2000" },
    "ws-count": { type: "string", default: "1000" },
    "ws-window": { type: "string", default: "16" },
    keys: { type: "string", default: "hs256" },
  },
  { keys: ["hs256", "es256"] },
);
const builds = values.build ?? [];
if (builds.length === 0) throw new Error("--build <dir> required (repeat it for an A/B run)");
const rounds = Number(values.rounds);
const only = new Set(values.only.split(","));
const concurrency = Number(values.concurrency);

const origins: OriginProcess[] = [];
const edges: RunningEdge[] = [];
const pids: number[] = [];
try {
  for (let i = 1; i <= 2; i++) {
    origins.push(await startOriginProcess(`o${i}`, ["--listen", "combined=127.0.0.1:0", "--capacity", "1000000"]));
  }
  const vars = {
    // No per-network S budget, as in the bench (bench/targets/edge.ts): every request here
    // comes from 127.0.0.1, and `create` rounds past the budget were refused with 429.
    POOLS: JSON.stringify({
      pools: [{ name: "default", hosts: ["*"], settings: { networkBudget: { sessions: 0 } }, origins: origins.map((o) => ({ id: o.id, url: o.url })) }],
    }),
    ...(values.keys === "es256" ? await es256Ring() : { AFFINITY_KEYS: DEV_AFFINITY_KEYS, AFFINITY_SIGNING_KID: DEV_SIGNING_KID }),
    ADMIN_TOKEN: DEV_ADMIN_TOKEN,
  };
  for (const dir of builds) {
    const { value, pid } = await withNewWorkerd(() => startEdge({ port: 0, vars, buildDir: dir, prebuilt: true }));
    edges.push(value);
    pids.push(pid);
  }

  const results: Array<Record<string, number[]>> = builds.map(() => ({}));
  const add = (i: number, key: string, v: number): void => {
    (results[i]![key] ??= []).push(v);
  };
  // Warm each isolate (first snapshot, first session object) before measuring.
  for (const edge of edges) await createSessions(edge.url, 20, 4);
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? builds.map((_, i) => i) : builds.map((_, i) => builds.length - 1 - i);
    for (const i of order) {
      const url = edges[i]!.url;
      const pid = pids[i]!;
      /** Runs one workload and records the workerd CPU it cost per operation. */
      const measured = async <T,>(name: string, ops: number, run: () => Promise<T>): Promise<T> => {
        const cpu0 = await cpuMs(pid);
        const result = await run();
        add(i, `${name} cpu ms/op`, ((await cpuMs(pid)) - cpu0) / ops);
        return result;
      };
      if (only.has("create")) {
        const n = Number(values["create-count"]);
        const c = await measured("create", n, () => createSessions(url, n, concurrency));
        add(i, "create/s", c.rate);
        add(i, "create p50 ms", c.p50);
      }
      if (only.has("cr")) {
        const n = Number(values["cr-count"]);
        const c = await measured("cr", n, () => crRequests(url, n, concurrency));
        add(i, "cr/s", c.rate);
        add(i, "cr p50 ms", c.p50);
      }
      if (only.has("ws")) {
        const n = Number(values["ws-count"]);
        const w = await measured("ws echo", n, () => wsEcho(url, n));
        add(i, "ws rtt p50 µs", w.p50 * 1000);
        add(i, "ws rtt p99 µs", w.p99 * 1000);
      }
      if (only.has("wsrate")) {
        const n = Number(values["ws-count"]) * 5;
        add(i, "ws msgs/s", await measured("ws msg", n, () => wsRate(url, n, Number(values["ws-window"]))));
      }
    }
  }
  console.log(`median of ${rounds} rounds [each round]`);
  for (const k of Object.keys(results[0]!)) {
    console.log(k);
    for (const [i, res] of results.entries()) {
      console.log(`  ${builds[i]!.padEnd(24)} ${fmt(median(res[k]!)).padStart(8)}  [${res[k]!.map(fmt).join(" ")}]`);
    }
  }
} finally {
  await Promise.allSettled([...edges.map((e) => e.close()), ...origins.map((o) => o.stop())]);
}

/** A key ring of one P-256 private JWK, made for this run (README "Affinity tokens"). */
async function es256Ring(): Promise<{ AFFINITY_KEYS: string; AFFINITY_SIGNING_KID: string }> {
  const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as { privateKey: CryptoKey };
  const { kty, crv, x, y, d } = await crypto.subtle.exportKey("jwk", pair.privateKey);
  return { AFFINITY_KEYS: JSON.stringify({ "ab-es256": { kty, crv, x, y, d } }), AFFINITY_SIGNING_KID: "ab-es256" };
}

function fmt(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 1 ? n.toFixed(2) : n.toFixed(3);
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)]!;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

async function inParallel(n: number, worker: () => Promise<void>): Promise<void> {
  await Promise.all(Array.from({ length: n }, worker));
}

async function createSession(base: string): Promise<{ id: string; token: string }> {
  const res = await fetch(`${base}/session`, { method: "POST" });
  const body = (await res.json()) as { id: string };
  const token = res.headers.get("x-affinity-token");
  if (res.status !== 201 || token === null) throw new Error(`S request answered ${res.status}`);
  return { id: body.id, token };
}

async function createSessions(base: string, count: number, c: number): Promise<{ rate: number; p50: number }> {
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await inParallel(c, async () => {
    while (next++ < count) {
      const t = performance.now();
      await createSession(base);
      lat.push(performance.now() - t);
    }
  });
  return { rate: (count * 1000) / (performance.now() - t0), p50: quantile(lat, 0.5) };
}

async function crRequests(base: string, count: number, c: number): Promise<{ rate: number; p50: number }> {
  const s = await createSession(base);
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await inParallel(c, async () => {
    while (next++ < count) {
      const t = performance.now();
      const res = await fetch(`${base}/session/${s.id}`, { headers: { "x-affinity-token": s.token } });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`CR request answered ${res.status}`);
      lat.push(performance.now() - t);
    }
  });
  return { rate: (count * 1000) / (performance.now() - t0), p50: quantile(lat, 0.5) };
}

function openEcho(base: string): Promise<WebSocket> {
  const ws = new WebSocket(`${base.replace(/^http/, "ws")}/ws?interval_ms=0`);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("WebSocket open/hello timed out")), 10_000);
    ws.once("message", () => {
      clearTimeout(timer);
      resolve(ws);
    });
    ws.once("error", reject);
  });
}

async function wsEcho(base: string, count: number): Promise<{ p50: number; p99: number }> {
  const ws = await openEcho(base);
  const payload = "x".repeat(64);
  const rtts: number[] = [];
  try {
    for (let i = 0; i < count + 50; i++) {
      const t = performance.now();
      await new Promise<void>((resolve) => {
        ws.once("message", () => resolve());
        ws.send(payload);
      });
      if (i >= 50) rtts.push(performance.now() - t);
    }
  } finally {
    ws.close();
  }
  return { p50: quantile(rtts, 0.5), p99: quantile(rtts, 0.99) };
}

async function wsRate(base: string, count: number, window: number): Promise<number> {
  const ws = await openEcho(base);
  const payload = "y".repeat(64);
  try {
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      let sent = 0;
      let received = 0;
      ws.on("message", () => {
        received++;
        if (received === count) resolve();
        else if (sent < count) {
          sent++;
          ws.send(payload);
        }
      });
      for (; sent < Math.min(window, count); sent++) ws.send(payload);
    });
    return (count * 1000) / (performance.now() - t0);
  } finally {
    ws.close();
  }
}
