/**
 * The workerd processes Miniflare starts under this process, and what they have used:
 * CPU time (user + system, from /proc) is what a request costs the runtime, and much
 * less disturbed by a busy machine than wall-clock throughput is.
 */
import { readFile, readdir } from "node:fs/promises";

/** PIDs of the workerd processes that descend from this process. */
export async function workerdPids(): Promise<Set<number>> {
  const children = new Map<number, number[]>();
  const names = new Map<number, string>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const m = /^(\d+) \((.*)\) \S+ (\d+)/.exec(await readFile(`/proc/${entry}/stat`, "utf8"));
      if (m === null) continue;
      const [pid, name, ppid] = [Number(m[1]), m[2]!, Number(m[3])];
      names.set(pid, name);
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    } catch {
      // The process ended while we looked.
    }
  }
  const found = new Set<number>();
  const queue = [process.pid];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    if (names.get(pid)?.startsWith("workerd")) found.add(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return found;
}

/** Starts something that starts one workerd (e.g. startEdge) and returns it with that workerd's PID. */
export async function withNewWorkerd<T>(start: () => Promise<T>): Promise<{ value: T; pid: number }> {
  const before = await workerdPids();
  const value = await start();
  const added = [...(await workerdPids())].filter((pid) => !before.has(pid));
  if (added.length !== 1) throw new Error(`expected one new workerd process, found ${added.length}`);
  return { value, pid: added[0]! };
}

/** CPU time (user + system) the process has used, in milliseconds. */
export async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name: state is field 3; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** Resident memory of the process, in KiB. */
export async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? "NaN");
}

/** USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK). */
const CLOCK_TICKS_PER_SECOND = 100;
