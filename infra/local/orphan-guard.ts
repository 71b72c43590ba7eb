/**
 * Starts the orphan guard (orphan-guard-main.ts) beside this process and tells it which
 * processes to end should this one die without ending them: `npm start` registers every
 * child it has once the stack is up (the origins and Miniflare's workerd).
 * Linux only (it identifies processes through /proc); elsewhere it is a no-op.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { descendants } from "./proc.ts";

export interface OrphanGuard {
  /** Watches every current child of this process (and theirs) not watched yet; returns how many are watched. */
  watchChildren(): number;
  /** This process is stopping them itself: the guard only makes sure they end. */
  stopping(): void;
}

const MAIN = join(import.meta.dirname, "orphan-guard-main.ts");

export function startOrphanGuard(): OrphanGuard {
  if (!existsSync("/proc/self/stat")) return { watchChildren: () => 0, stopping: () => {} };
  const guard: ChildProcess = spawn(process.execPath, [MAIN], {
    // stdin: the pipe whose closing tells the guard this process is gone. stderr: its one
    // line when it has to act, to wherever this process's stderr goes.
    stdio: ["pipe", "ignore", "inherit"],
  });
  // The guard must not keep this process alive, nor fail it if it is gone already.
  guard.unref();
  const pipe = guard.stdin;
  pipe?.on("error", () => {});
  const send = (line: string): void => {
    if (pipe !== null && pipe.writable) pipe.write(`${line}\n`);
  };
  const watched = new Set<string>();
  return {
    watchChildren() {
      for (const p of descendants(process.pid)) {
        const id = `${p.pid} ${p.startTime}`;
        if (p.pid === guard.pid || watched.has(id)) continue;
        watched.add(id);
        send(`watch ${id}`);
      }
      return watched.size;
    },
    stopping() {
      send("stopping");
    },
  };
}
