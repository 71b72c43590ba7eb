/**
 * What a session object costs workerd after its last request: the CPU the runtime spends
 * putting new objects to sleep — locally, closing each object's SQLite database (a WAL
 * checkpoint, two fsyncs and two unlinks, on workerd's one thread: `strace -f -tt -e
 * trace=fsync,unlinkat -p <workerd>`) some 10–20 s after its last request.
 * A fresh hop — the edge (relay mode `edge`) or `floor-object` (a bare SQLite object per
 * request) — gets `--sessions` `POST /session` (an object each, no connection held); then
 * nothing is sent until workerd has closed their databases (bench/lib/object-settle.ts),
 * and `--background-ms` more, to learn what the hop spends with nothing to do (its
 * background). Prints workerd's CPU per second of the quiet, and per object what the
 * sleep cost above that background (docs/performance.md, "An object's sleep").
 *
 *   node tools/profile/object-sleep-cpu.ts [--target edge|floor-object] [--sessions 500] [--background-ms 10000]
 */
import { openDatabases } from "../../bench/lib/object-settle.ts";
import { cpuMs } from "./workerd-process.ts";
import { OBJECT_HOPS, startFreshHop } from "./fresh-hop.ts";
import { toolArgs } from "./tool-args.ts";
import { sleep } from "../../bench/lib/time.ts";

const values = toolArgs(
  import.meta.url,
  {
    target: { type: "string", default: "edge" },
    sessions: { type: "string", default: "500" },
    "background-ms": { type: "string", default: "10000" },
  },
  { target: OBJECT_HOPS },
);
const sessions = Number(values.sessions);
const parallel = 16;
/** Longest wait for the objects' databases to close (they did within ~20 s here). */
const SLEEP_TIMEOUT_MS = 60_000;

const hop = await startFreshHop(values.target);
try {
  const { pids, create } = hop;
  const cpu = async (): Promise<number> => (await Promise.all(pids.map(cpuMs))).reduce((a, b) => a + b, 0);
  const databases = (): number => {
    const n = openDatabases(pids);
    if (n === undefined) throw new Error("cannot read workerd's open files (/proc)");
    return n;
  };
  // One-time costs (code, first connections, objects that stay awake), asleep before measuring.
  for (let i = 0; i < 20; i++) await create();
  await sleep(25_000);
  const baseline = databases();
  const c0 = await cpu();
  for (let i = 0; i < sessions; i += parallel) await Promise.all(Array.from({ length: Math.min(parallel, sessions - i) }, create));
  const c1 = await cpu();
  console.log(`${values.target}: ${sessions} S requests, ${((c1 - c0) / sessions).toFixed(2)} ms of workerd CPU per S`);

  const perSecond: number[] = [];
  let last = c1;
  const second = async (): Promise<void> => {
    await sleep(1_000);
    const now = await cpu();
    perSecond.push(now - last);
    last = now;
  };
  while (databases() > baseline) {
    if (perSecond.length * 1_000 >= SLEEP_TIMEOUT_MS) throw new Error(`${databases() - baseline} objects still awake after ${SLEEP_TIMEOUT_MS / 1000} s`);
    await second();
  }
  const sleepSeconds = perSecond.length;
  const sleepCpu = last - c1;
  // At least a second of it, or there is no background to subtract.
  const backgroundMs = Math.max(1_000, Number(values["background-ms"]));
  for (let waited = 0; waited < backgroundMs; waited += 1_000) await second();
  const background = (last - c1 - sleepCpu) / (perSecond.length - sleepSeconds);
  console.log(`workerd CPU ms in each second after the last S: ${perSecond.map((ms) => ms.toFixed(0)).join(" ")}`);
  console.log(`all ${sessions} objects asleep (databases closed) after ${sleepSeconds} s; then ${background.toFixed(1)} ms/s of background`);
  console.log(`${values.target}: ${((sleepCpu - background * sleepSeconds) / sessions).toFixed(2)} ms of workerd CPU per object to go to sleep, above the background`);
} finally {
  await hop.close();
}
