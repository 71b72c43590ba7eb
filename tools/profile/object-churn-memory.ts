/**
 * What creating session objects costs workerd's memory, and how much of it stays: batches
 * of `POST /session` (an object each, no connection held) against a fresh hop — the edge
 * (relay mode `edge`) or `floor-object` (a bare SQLite object per request) — and workerd's
 * RSS growth per new session after each batch has sat past the hibernation period. The
 * first batch is the high-water mark of that many new objects awake at once; later ones
 * show whether evicted objects' memory is held or reused (docs/performance.md).
 *
 *   node tools/profile/object-churn-memory.ts [--target edge|floor-object] [--sessions 500] [--batches 4]
 */
import { totalRssKiB } from "../../bench/lib/procs.ts";
import { OBJECT_HOPS, startFreshHop } from "./fresh-hop.ts";
import { toolArgs } from "./tool-args.ts";
import { sleep } from "../../bench/lib/time.ts";

const values = toolArgs(
  import.meta.url,
  {
    target: { type: "string", default: "edge" },
    sessions: { type: "string", default: "500" },
    batches: { type: "string", default: "4" },
    "idle-ms": { type: "string", default: "15000" },
  },
  { target: OBJECT_HOPS },
);
const sessions = Number(values.sessions);
const parallel = 16;

const hop = await startFreshHop(values.target);
try {
  const { pids, create } = hop;
  // One-time costs (code, first connections) before the baseline.
  for (let i = 0; i < 20; i++) await create();
  await sleep(2_000);
  let last = totalRssKiB(pids);
  if (last === undefined) throw new Error("cannot read workerd's RSS (/proc)");
  for (let b = 1; b <= Number(values.batches); b++) {
    for (let i = 0; i < sessions; i += parallel) await Promise.all(Array.from({ length: Math.min(parallel, sessions - i) }, create));
    await sleep(Number(values["idle-ms"]));
    const rss = totalRssKiB(pids);
    if (rss === undefined) throw new Error("workerd ended");
    console.log(`${values.target} batch ${b}: ${((rss - last) / sessions).toFixed(1)} KiB per new session (RSS ${rss} KiB)`);
    last = rss;
  }
} finally {
  await hop.close();
}
