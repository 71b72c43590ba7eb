/**
 * Memory per held idle WebSocket session: opens N WebSocket sessions through the edge
 * (each one an S request, a session object and its relay to the origin), lets them sit
 * idle, and reports the growth per session of (a) the isolate's JS heap after a garbage
 * collection — what a session costs the Worker's memory limit — and (b) the workerd
 * process's resident memory, which also holds the runtime's own socket buffers. The origin
 * runs in its own process and is not counted.
 *
 * It also reports the growth in workerd's open files. `--relay` sets the pool's relay mode
 * (docs/relay-modes.md); `--settle-ms` how long sessions sit idle before each reading
 * (past ~10 s, local workerd hibernates session objects that can hibernate).
 *
 *   node tools/profile/idle-ws-memory.ts [--build .build/edge] [--sessions 500] [--batches 2] [--relay edge|object] [--settle-ms 3000]
 */
import { readdir } from "node:fs/promises";
import { WebSocket } from "ws";
import { startEdge } from "../../infra/local/edge.ts";
import { startOriginProcess } from "../../infra/local/origin-process.ts";
import { DEV_AFFINITY_KEYS, DEV_SIGNING_KID, DEV_ADMIN_TOKEN } from "../../infra/local/dev-secrets.ts";
import { connectInspector, freePort } from "../../infra/local/inspector.ts";
import { rssKiB, withNewWorkerd } from "./workerd-process.ts";
import { toolArgs } from "./tool-args.ts";

const values = toolArgs(import.meta.url, {
  build: { type: "string", default: ".build/edge" },
  sessions: { type: "string", default: "500" },
  batches: { type: "string", default: "2" },
  relay: { type: "string", default: "edge" },
  "settle-ms": { type: "string", default: "3000" },
});
const perBatch = Number(values.sessions);

const origin = await startOriginProcess("o1", ["--listen", "combined=127.0.0.1:0", "--capacity", "1000000"]);
const inspectorPort = await freePort();
const { value: edge, pid } = await withNewWorkerd(() => startEdge({
  port: 0,
  inspectorPort,
  prebuilt: true,
  buildDir: values.build,
  vars: {
    POOLS: JSON.stringify({ pools: [{ name: "default", hosts: ["*"], origins: [{ id: origin.id, url: origin.url }], settings: { relay: values.relay } }] }),
    AFFINITY_KEYS: DEV_AFFINITY_KEYS,
    AFFINITY_SIGNING_KID: DEV_SIGNING_KID,
    ADMIN_TOKEN: DEV_ADMIN_TOKEN,
  },
}));
const sockets: WebSocket[] = [];
try {
  const wsUrl = `${edge.url.replace(/^http/, "ws")}/ws?interval_ms=0`;
  // Warm up: the first sessions pay for code and caches that every later one shares.
  await openMany(wsUrl, 50);
  const inspector = await connectInspector(inspectorPort);
  const heapKiB = async (): Promise<number> => {
    await inspector.call("HeapProfiler.collectGarbage");
    const { usedSize } = (await inspector.call("Runtime.getHeapUsage")) as { usedSize: number };
    return usedSize / 1024;
  };
  await settle();
  let rss = await rssKiB(pid);
  let heap = await heapKiB();
  let files = await openFiles(pid);
  console.log(`relay mode ${values.relay}; after warm-up (50 sessions): JS heap ${heap.toFixed(0)} KiB, workerd RSS ${rss} KiB, ${files} open files`);
  for (let b = 0; b < Number(values.batches); b++) {
    await openMany(wsUrl, perBatch);
    await settle();
    const [rssNow, heapNow, filesNow] = [await rssKiB(pid), await heapKiB(), await openFiles(pid)];
    console.log(
      `+${perBatch} idle sessions (${sockets.length} open): per session JS heap ${((heapNow - heap) / perBatch).toFixed(1)} KiB, ` +
        `workerd RSS ${((rssNow - rss) / perBatch).toFixed(1)} KiB, open files ${((filesNow - files) / perBatch).toFixed(2)}`,
    );
    [rss, heap, files] = [rssNow, heapNow, filesNow];
  }
  inspector.close();
} finally {
  for (const ws of sockets) ws.terminate();
  await Promise.allSettled([edge.close(), origin.stop()]);
}

async function openMany(url: string, n: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next++ < n) sockets.push(await openOne(url));
    }),
  );
}

function openOne(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("WebSocket open/hello timed out")), 15_000);
    ws.once("message", () => {
      clearTimeout(timer);
      resolve(ws);
    });
    ws.once("error", reject);
  });
}

/** Let garbage collection and deferred work (registry writes) run before reading RSS. */
async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, Number(values["settle-ms"])));
}

/** Open file descriptors of a process (Linux /proc). */
async function openFiles(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length;
}
