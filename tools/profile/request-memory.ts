/**
 * What local workerd keeps per HTTP request it answers: RSS before and after `--count` GETs
 * (32 keep-alive connections) and, for the edge, its isolate's JavaScript heap after a full
 * GC (workerd's inspector). `floor-worker` is the minimal Worker of the bench's floors
 * (bench/floors/worker.ts): what the runtime keeps whatever the Worker does.
 *
 *   node tools/profile/request-memory.ts --target edge|floor-worker [--count 20000] [--path /nothing/here]
 *
 * docs/resilience.md (the s-flood scenario's memory check) quotes its figures.
 */
import { Agent, request } from "node:http";
import { startFloor } from "../../bench/lib/floor-runner.ts";
import { childPids } from "../../bench/lib/procs.ts";
import { rssMiB } from "../../chaos/lib/processes.ts";
import { DEV_ADMIN_TOKEN, DEV_AFFINITY_KEYS, DEV_SIGNING_KID } from "../../infra/local/dev-secrets.ts";
import { startEdge } from "../../infra/local/edge.ts";
import { freePort, isolateHeapMiB } from "../../infra/local/inspector.ts";
import { startOriginProcess } from "../../infra/local/origin-process.ts";
import { toolArgs } from "./tool-args.ts";

const values = toolArgs(
  import.meta.url,
  {
    target: { type: "string", default: "edge" },
    count: { type: "string", default: "20000" },
    path: { type: "string", default: "/nothing/here" },
  },
  { target: ["edge", "floor-worker"] },
);
const count = Number(values.count);

const origin = await startOriginProcess("o1", ["--listen", "combined=127.0.0.1:0", "--capacity", "1000000"]);
const inspectorPort = values.target === "edge" ? await freePort() : undefined;
const before = new Set(childPids("workerd"));
const hop =
  values.target === "edge"
    ? await startEdge({
        port: 0,
        prebuilt: true,
        ...(inspectorPort === undefined ? {} : { inspectorPort }),
        vars: {
          POOLS: JSON.stringify({ pools: [{ name: "default", hosts: ["*"], origins: [{ id: origin.id, url: origin.url }] }] }),
          AFFINITY_KEYS: DEV_AFFINITY_KEYS,
          AFFINITY_SIGNING_KID: DEV_SIGNING_KID,
          ADMIN_TOKEN: DEV_ADMIN_TOKEN,
        },
      })
    : await startFloor("worker", [{ id: origin.id, url: origin.url }]);
const pid = childPids("workerd").find((p) => !before.has(p));
const agent = new Agent({ keepAlive: true, maxSockets: 32 });
try {
  if (pid === undefined) throw new Error("no new workerd process");
  const heap = async (): Promise<string> => {
    const mib = inspectorPort === undefined ? undefined : await isolateHeapMiB(inspectorPort);
    return mib === undefined ? "" : `, isolate heap after a full GC ${mib.toFixed(1)} MiB`;
  };
  const get = (): Promise<number> =>
    new Promise((resolve) => {
      const req = request(`${hop.url}${values.path}`, { agent, signal: AbortSignal.timeout(10_000) }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      });
      req.on("error", () => resolve(-1));
      req.end();
    });
  // One request first: the isolate (and its inspector target) exists once it has served one.
  await get();
  console.log(`before: RSS ${rssMiB(pid)?.toFixed(0)} MiB${await heap()}`);
  const statuses = new Map<number, number>();
  let sent = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (sent < count) {
        sent++;
        const status = await get();
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  console.log(`after ${count} GETs ${values.path} (${JSON.stringify(Object.fromEntries(statuses))}): RSS ${rssMiB(pid)?.toFixed(0)} MiB${await heap()}`);
} finally {
  agent.destroy();
  await Promise.allSettled([hop.close(), origin.stop()]);
}
