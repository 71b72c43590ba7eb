/**
 * CPU profile of the edge (Worker and session objects run in the same workerd isolate
 * locally) under one workload, through workerd's DevTools inspector: prints the functions
 * with the most self time and writes the raw `.cpuprofile` (open it in Chrome DevTools).
 *
 *   node tools/profile/cpu-profile.ts --workload cr|create|ws|stream [--build .build/edge] [--count N] [--out /tmp/x.cpuprofile] [--inclusive fnA,fnB]
 *
 * `--inclusive` also prints, for each named function, its inclusive time (itself and what it
 * called, in every frame of that name) per operation of the workload (`--count`): what an
 * A/B of two builds compares when a change removes a few tens of µs that end-to-end CPU
 * figures cannot tell from noise.
 *
 * `stream` holds `--count` SSE streams (20 ms ticks, 5 s each) open at once: what the
 * edge does per relayed event, and what else runs beside the streams meanwhile.
 */
import { writeFile } from "node:fs/promises";
import { WebSocket } from "ws";
import { connectInspector, freePort } from "../../infra/local/inspector.ts";
import { startEdge } from "../../infra/local/edge.ts";
import { startOriginProcess } from "../../infra/local/origin-process.ts";
import { DEV_AFFINITY_KEYS, DEV_SIGNING_KID, DEV_ADMIN_TOKEN } from "../../infra/local/dev-secrets.ts";
import { toolArgs } from "./tool-args.ts";

const values = toolArgs(
  import.meta.url,
  {
    workload: { type: "string", default: "cr" },
    build: { type: "string", default: ".build/edge" },
    count: { type: "string", default: "2000" },
    out: { type: "string", default: "/tmp/edge.cpuprofile" },
    top: { type: "string", default: "40" },
    inclusive: { type: "string", default: "" },
  },
  { workload: ["cr", "create", "ws", "stream"] },
);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** A gap between two samples longer than this (µs; the interval is 100) was not sampled. */
const UNSAMPLED_GAP_US = 10_000;

const inspectorPort = await freePort();
const origin = await startOriginProcess("o1", ["--listen", "combined=127.0.0.1:0", "--capacity", "1000000"]);
const edge = await startEdge({
  port: 0,
  prebuilt: true,
  buildDir: values.build,
  inspectorPort,
  vars: {
    // No per-network S budget, as in the bench (bench/targets/edge.ts): every request here
    // comes from 127.0.0.1, and a `create` profile would otherwise be mostly of refusals.
    POOLS: JSON.stringify({ pools: [{ name: "default", hosts: ["*"], settings: { networkBudget: { sessions: 0 } }, origins: [{ id: origin.id, url: origin.url }] }] }),
    AFFINITY_KEYS: DEV_AFFINITY_KEYS,
    AFFINITY_SIGNING_KID: DEV_SIGNING_KID,
    ADMIN_TOKEN: DEV_ADMIN_TOKEN,
  },
});
try {
  const base = edge.url;
  // Warm up before profiling.
  await workload(base, "create", 30);
  await workload(base, values.workload, 100);
  const inspector = await connectInspector(inspectorPort);
  await inspector.call("Profiler.enable");
  await inspector.call("Profiler.setSamplingInterval", { interval: 100 });
  await inspector.call("Profiler.start");
  const t0 = Date.now();
  await workload(base, values.workload, Number(values.count));
  const wall = Date.now() - t0;
  const { profile } = (await inspector.call("Profiler.stop")) as { profile: Profile };
  inspector.close();
  await writeFile(values.out, JSON.stringify(profile));
  report(profile, wall, Number(values.top));
  const names = values.inclusive.split(",").filter((n) => n !== "");
  if (names.length > 0) reportInclusive(profile, names, Number(values.count));
} finally {
  await Promise.allSettled([edge.close(), origin.stop()]);
}

function report(profile: Profile, wallMs: number, top: number): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  // V8 samples only while the isolate's thread is in it: workerd moves a native pipe's
  // bytes without entering the isolate, and such a stretch arrives as one long delta
  // that would otherwise be charged to whatever function the next sample lands in.
  let unsampled = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    const delta = profile.timeDeltas[i] ?? 0;
    if (delta > UNSAMPLED_GAP_US) unsampled += delta;
    else self.set(id, (self.get(id) ?? 0) + delta);
  }
  const byFn = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const f = byId.get(id)!.callFrame;
    const file = f.url.split("/").pop() ?? "";
    const key = `${f.functionName || "(anonymous)"} ${file}:${f.lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
    total += us;
  }
  const idle = [...byFn].filter(([k]) => k.startsWith("(idle)")).reduce((s, [, v]) => s + v, 0);
  console.log(
    `wall ${wallMs} ms, sampled ${(total / 1000).toFixed(0)} ms, busy (not idle) ${((total - idle) / 1000).toFixed(0)} ms, ` +
      `outside the isolate (gaps over ${UNSAMPLED_GAP_US / 1000} ms between samples) ${(unsampled / 1000).toFixed(0)} ms`,
  );
  for (const [k, us] of [...byFn].sort((x, y) => y[1] - x[1]).slice(0, top)) {
    console.log(`${(us / 1000).toFixed(1).padStart(8)} ms  ${(((100 * us) / total) || 0).toFixed(1).padStart(5)}%  ${k}`);
  }
}

/** Inclusive µs per operation of each named function, gaps outside the isolate left out. */
function reportInclusive(profile: Profile, names: readonly string[], ops: number): void {
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const wanted = new Set(names);
  const inclusive = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    if (delta > UNSAMPLED_GAP_US) continue;
    // Each name counts a sample once, however often it is on the sample's stack (recursion).
    const seen = new Set<string>();
    for (let id: number | undefined = profile.samples[i]; id !== undefined; id = parent.get(id)) {
      const name = byId.get(id)!.callFrame.functionName;
      if (wanted.has(name) && !seen.has(name)) {
        seen.add(name);
        inclusive.set(name, (inclusive.get(name) ?? 0) + delta);
      }
    }
  }
  console.log(`inclusive per operation (${ops} operations):`);
  for (const name of names) console.log(`${((inclusive.get(name) ?? 0) / ops).toFixed(1).padStart(8)} µs  ${name}`);
}

async function workload(base: string, kind: string, count: number): Promise<void> {
  if (kind === "create") {
    await inParallel(8, count, async () => void (await createSession(base)));
  } else if (kind === "cr") {
    const s = await createSession(base);
    await inParallel(8, count, async () => {
      const res = await fetch(`${base}/session/${s.id}`, { headers: { "x-affinity-token": s.token } });
      await res.arrayBuffer();
    });
  } else if (kind === "ws") {
    const ws = new WebSocket(`${base.replace(/^http/, "ws")}/ws?interval_ms=0`);
    await new Promise((resolve, reject) => {
      ws.once("message", resolve);
      ws.once("error", reject);
    });
    let received = 0;
    await new Promise<void>((resolve) => {
      ws.on("message", () => {
        if (++received === count) resolve();
        else ws.send("z".repeat(64));
      });
      for (let i = 0; i < 16; i++) ws.send("z".repeat(64));
    });
    ws.close();
  } else if (kind === "stream") {
    const sessions = await Promise.all(Array.from({ length: count }, () => createSession(base)));
    await Promise.all(
      sessions.map(async (s) => {
        // An SSE client's Accept: what tells the generic adapter the answer will be held open.
        const headers = { "x-affinity-token": s.token, accept: "text/event-stream" };
        const res = await fetch(`${base}/session/${s.id}/stream?interval_ms=20&count=250`, { headers });
        // A refused stream would profile the refusal, not the relay.
        if (res.status !== 200 || res.body === null) throw new Error(`stream: HTTP ${res.status} ${await res.text()}`);
        const reader = res.body.getReader();
        while (!(await reader.read()).done);
      }),
    );
  } else {
    throw new Error(`unknown workload ${kind}`);
  }
}

async function createSession(base: string): Promise<{ id: string; token: string }> {
  const res = await fetch(`${base}/session`, { method: "POST" });
  const body = (await res.json()) as { id: string };
  return { id: body.id, token: res.headers.get("x-affinity-token") ?? "" };
}

async function inParallel(n: number, count: number, job: () => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next++ < count) await job();
    }),
  );
}
