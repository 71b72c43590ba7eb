/**
 * Linux process facts the bench needs: resident memory (for "memory per held session"),
 * the workerd child that Miniflare spawned (that is the edge's process), and CPU pinning
 * with `taskset`. Everything degrades to "unknown" off Linux rather than guessing.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { cpus } from "node:os";

/** Resident set size in KiB (VmRSS), or undefined when the process is gone or /proc is absent. */
export function rssKiB(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match === null ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

/** Sum of RSS over `pids`; undefined if any is unreadable (a partial sum would mislead). */
export function totalRssKiB(pids: readonly number[]): number | undefined {
  let sum = 0;
  for (const pid of pids) {
    const kib = rssKiB(pid);
    if (kib === undefined) return undefined;
    sum += kib;
  }
  return pids.length === 0 ? undefined : sum;
}

/** PIDs of this process's direct children whose command name is `comm` (e.g. "workerd"). */
export function childPids(comm: string, parent = process.pid): number[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // "pid (comm) state ppid ..." — comm may contain spaces, so split after the last ')'.
      const close = stat.lastIndexOf(")");
      const name = stat.slice(stat.indexOf("(") + 1, close);
      const ppid = Number(stat.slice(close + 2).split(" ")[1]);
      if (name === comm && ppid === parent) found.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

let tasksetPath: string | null | undefined;

/** Path of `taskset`, or null when it is not installed (then nothing is pinned). */
export function taskset(): string | null {
  if (tasksetPath === undefined) {
    try {
      tasksetPath = execFileSync("sh", ["-c", "command -v taskset"], { encoding: "utf8" }).trim() || null;
    } catch {
      tasksetPath = null;
    }
  }
  return tasksetPath;
}

/** The CPU the proxies are pinned to: the last one (the client and origins float). */
export function proxyCpu(): number | undefined {
  const n = cpus().length;
  return n >= 2 && taskset() !== null ? n - 1 : undefined;
}

/** Pins every thread of a running process to `cpu`; false when that was not possible. */
export function pinProcess(pid: number, cpu: number): boolean {
  const path = taskset();
  if (path === null) return false;
  try {
    execFileSync(path, ["-a", "-p", "-c", String(cpu), String(pid)], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** The soft "Max open files" limit of a process, or undefined when unreadable. */
export function openFileLimit(pid: number): number | undefined {
  try {
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync(`/proc/${pid}/limits`, "utf8"));
    if (match === null) return undefined;
    return match[1] === "unlimited" ? Number.POSITIVE_INFINITY : Number(match[1]);
  } catch {
    return undefined;
  }
}

/** USER_HZ (getconf CLK_TCK): 100 on every Linux this runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU time (user + system, all threads) `pids` have used, in ms; undefined if any is unreadable. */
export function cpuMs(pids: readonly number[]): number | undefined {
  let ticks = 0;
  for (const pid of pids) {
    try {
      // Fields after the command name: utime and stime are the 14th and 15th of the line.
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      return undefined;
    }
  }
  return pids.length === 0 ? undefined : (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** Open file descriptors of `pids` together (/proc/<pid>/fd); undefined if any is unreadable. */
export function openFiles(pids: readonly number[]): number | undefined {
  let sum = 0;
  for (const pid of pids) {
    try {
      sum += readdirSync(`/proc/${pid}/fd`).length;
    } catch {
      return undefined;
    }
  }
  return pids.length === 0 ? undefined : sum;
}
