/**
 * Processes as Linux's /proc shows them: who a process's children are, and an identity
 * (pid + start time) that a reused pid cannot fake. The local stack's orphan guard and
 * the signal tests use it; on a system without /proc every answer is empty.
 */
import { readdirSync, readFileSync } from "node:fs";

/** A process, told apart from a later process that got the same pid. */
export interface ProcessIdentity {
  readonly pid: number;
  /** Field 22 of /proc/<pid>/stat: start time in clock ticks since boot. */
  readonly startTime: string;
}

interface Stat {
  readonly pid: number;
  readonly comm: string;
  readonly state: string;
  readonly ppid: number;
  readonly startTime: string;
}

function stat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may itself hold spaces or ')': split after the last ')'.
  const close = text.lastIndexOf(")");
  const comm = text.slice(text.indexOf("(") + 1, close);
  const fields = text.slice(close + 2).split(" ");
  // fields[0] is field 3 (state), so field N is fields[N - 3].
  const [state, ppid, startTime] = [fields[0], fields[1], fields[19]];
  if (state === undefined || ppid === undefined || startTime === undefined) return undefined;
  return { pid, comm, state, ppid: Number(ppid), startTime };
}

function allStats(): Stat[] {
  let names: string[];
  try {
    names = readdirSync("/proc");
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    if (!/^\d+$/.test(name)) return [];
    const s = stat(Number(name));
    return s === undefined ? [] : [s];
  });
}

/** A process below another, with its parent and command name. */
export interface Descendant extends ProcessIdentity {
  readonly ppid: number;
  readonly comm: string;
}

/** Every living process below `root` (children, their children, ...). */
export function descendants(root: number): Descendant[] {
  const stats = allStats();
  const found: Descendant[] = [];
  let frontier = new Set([root]);
  while (frontier.size > 0) {
    const next = new Set<number>();
    for (const s of stats) {
      if (frontier.has(s.ppid) && s.state !== "Z") {
        found.push({ pid: s.pid, startTime: s.startTime, ppid: s.ppid, comm: s.comm });
        next.add(s.pid);
      }
    }
    frontier = next;
  }
  return found;
}

/** This process as /proc sees it, or undefined without /proc. */
export function identify(pid: number): ProcessIdentity | undefined {
  const s = stat(pid);
  return s === undefined ? undefined : { pid, startTime: s.startTime };
}

/** True while the very process `id` names runs (not a zombie, not a newer owner of its pid). */
export function isRunning(id: ProcessIdentity): boolean {
  const s = stat(id.pid);
  return s !== undefined && s.startTime === id.startTime && s.state !== "Z";
}
