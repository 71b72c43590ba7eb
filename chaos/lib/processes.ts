/**
 * What the chaos and soak runs learn about processes from /proc (Linux): the workerd that
 * Miniflare started, each process's resident memory, open file descriptors, and whether
 * a process we started is still alive after we stopped it.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** Resident set size in MiB, or undefined if the process is gone. */
export function rssMiB(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

/** Open file descriptors of a process (sockets, SQLite files...), or undefined if gone. */
export function openFds(pid: number): number | undefined {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

/** Open sockets of a process (fds that are sockets), or undefined if gone. */
export function openSockets(pid: number): number | undefined {
  try {
    let n = 0;
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith("socket:")) n++;
      } catch {
        // Closed between the listing and the look.
      }
    }
    return n;
  } catch {
    return undefined;
  }
}

/** True while `pid` exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 3 (after the parenthesised command) is the state; Z = zombie, X = dead.
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** Direct children of `parent` whose command name contains `name` (e.g. Miniflare's workerd). */
export function childrenNamed(parent: number, name: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const ppid = Number(stat.slice(close + 2).split(" ")[1]);
      if (ppid === parent && comm.includes(name)) out.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

/** The workerd process(es) this Node process started (Miniflare spawns workerd directly). */
export function workerdPids(): number[] {
  return childrenNamed(process.pid, "workerd");
}
