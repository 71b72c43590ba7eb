/**
 * `npm start` stops everything it started, however it is told to (issue 15):
 * SIGTERM or SIGINT to the npm process alone (what systemd, a container runtime or a
 * process manager sends — not Ctrl-C's whole group), SIGKILL of start.ts (the orphan
 * guard ends its origins and workerd), SIGKILL of npm (start.ts notices its parent is
 * gone). Each case starts the real `npm start` in its own process group, records every
 * process below npm from /proc, sends the one signal to the one pid, and checks that none
 * of those processes is left and that the edge's and origins' ports refuse connections;
 * and SIGTERM while the stack is still starting (origins up, Worker still building).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { createInterface } from "node:readline";
import { afterEach, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../infra/local/edge.ts";
import { descendants, isRunning, type Descendant, type ProcessIdentity } from "../../infra/local/proc.ts";
import { sleep, withTimeout } from "./support/wait.ts";

/** The whole stack must be gone this long after the signal (origins close within 3 s). */
const STOPPED_WITHIN_MS = 20_000;

interface Started {
  readonly npm: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly lines: string[];
  readonly ports: number[];
  readonly stack: Descendant[];
}

let recorded: ProcessIdentity[] = [];

afterEach(() => {
  // Only if a case failed: end what it started (by identity, never a reused pid).
  for (const id of recorded) if (isRunning(id)) process.kill(id.pid, "SIGKILL");
  recorded = [];
});

function spawnNpmStart(): ChildProcess {
  // detached: a group of its own, so a signal to the group a test does not send cannot
  // reach vitest, and npm is not in vitest's group either.
  return spawn("npm", ["start", "--", "--port", "0", "--origin-port", "0", "--demo-port", "0"], {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

async function npmStart(): Promise<Started> {
  const npm = spawnNpmStart();
  const lines: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => npm.once("exit", (code, signal) => resolve({ code, signal })));
  createInterface({ input: npm.stderr ?? process.stdin }).on("line", (l) => lines.push(l));
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      createInterface({ input: npm.stdout ?? process.stdin }).on("line", (line) => {
        lines.push(line);
        if (line.includes("push-edge ready: edge")) resolve();
      });
      void exited.then(({ code }) => reject(new Error(`npm start exited with ${code}:\n${lines.join("\n")}`)));
    }),
    120_000,
    "the ready line",
  );
  const ports = lines.flatMap((l) => [...l.matchAll(/(?:origin o\d|ready: edge)\s+http:\/\/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1])));
  const stack = descendants(npm.pid ?? -1);
  recorded = stack;
  return { npm, exited, lines, ports, stack };
}

/** start.ts: npm's child, since the start script execs node (no `sh -c` between). */
function startTs(s: Started): ProcessIdentity {
  const found = s.stack.find((p) => p.ppid === s.npm.pid);
  if (found === undefined) throw new Error(`npm has no child: ${JSON.stringify(s.stack)}`);
  return found;
}

async function portRefuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.setTimeout(2_000, () => socket.destroy());
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(true));
    socket.once("close", () => resolve(true));
  });
}

/** Waits (bounded) until no recorded process runs and every port refuses; returns what is left. */
async function leftOver(s: Started): Promise<{ processes: string[]; ports: number[] }> {
  const deadline = Date.now() + STOPPED_WITHIN_MS;
  for (;;) {
    const processes = s.stack.filter(isRunning).map((p) => `${p.pid} ${p.comm}`);
    const ports: number[] = [];
    if (processes.length === 0) for (const port of s.ports) if (!(await portRefuses(port))) ports.push(port);
    if ((processes.length === 0 && ports.length === 0) || Date.now() > deadline) return { processes, ports };
    await sleep(200);
  }
}

describe("npm start stops the whole stack", () => {
  it.each([
    { what: "SIGTERM to the npm process", signal: "SIGTERM" as const, target: "npm" as const },
    { what: "SIGINT to the npm process", signal: "SIGINT" as const, target: "npm" as const },
    { what: "SIGTERM to the process group", signal: "SIGTERM" as const, target: "group" as const },
    { what: "SIGKILL of start.ts (the orphan guard ends the rest)", signal: "SIGKILL" as const, target: "start.ts" as const },
    { what: "SIGKILL of npm (start.ts notices its parent is gone)", signal: "SIGKILL" as const, target: "npm" as const },
  ])("on $what", async ({ signal, target }) => {
    const s = await npmStart();
    // What the stack is: start.ts, the guard, three origins (node) and workerd.
    expect(s.stack.filter((p) => p.comm === "workerd")).toHaveLength(1);
    expect(s.stack.filter((p) => p.comm === "node").length).toBeGreaterThanOrEqual(5);
    expect(s.ports).toHaveLength(4);
    for (const port of s.ports) expect(await portRefuses(port)).toBe(false);

    // The group: npm was started detached, so its pid is the group's id.
    const pid = target === "npm" ? (s.npm.pid ?? -1) : target === "group" ? -(s.npm.pid ?? 1) : startTs(s).pid;
    process.kill(pid, signal);

    const npmExit = await withTimeout(s.exited, STOPPED_WITHIN_MS, "npm to exit");
    if (signal !== "SIGKILL") {
      // npm re-raises the signal its script died of; either way it is the conventional one.
      expect(npmExit.signal === signal || npmExit.code === 0 || npmExit.code === (signal === "SIGINT" ? 130 : 143), JSON.stringify(npmExit)).toBe(true);
      expect(s.lines).toContain(`push-edge: ${signal}, stopping the edge and 3 origins`);
    }
    expect(await leftOver(s)).toEqual({ processes: [], ports: [] });
  });

  it("on SIGTERM to the npm process while the stack is still starting", async () => {
    const npm = spawnNpmStart();
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => npm.once("exit", (code, signal) => resolve({ code, signal })));
    npm.stdout?.resume();
    npm.stderr?.resume();
    // Every process that ever ran below npm, sampled until npm is gone.
    const seen = new Map<string, Descendant>();
    const sample = () => {
      for (const p of descendants(npm.pid ?? -1)) seen.set(`${p.pid} ${p.startTime}`, p);
      recorded = [...seen.values()];
    };
    const isOrigin = (p: Descendant) => readCmdline(p.pid).includes("infra/origin/main.ts");
    await withTimeout(
      (async () => {
        while (![...seen.values()].some(isOrigin)) {
          sample();
          await sleep(50);
        }
      })(),
      60_000,
      "the first origin process",
    );
    process.kill(npm.pid ?? -1, "SIGTERM");
    let done = false;
    void exited.then(() => (done = true));
    while (!done) {
      sample();
      await sleep(50);
    }
    const npmExit = await exited;
    expect(npmExit.signal === "SIGTERM" || npmExit.code === 143, JSON.stringify(npmExit)).toBe(true);
    const deadline = Date.now() + STOPPED_WITHIN_MS;
    while (recorded.some(isRunning) && Date.now() < deadline) await sleep(200);
    expect(recorded.filter(isRunning).map((p) => `${p.pid} ${readCmdline(p.pid)}`)).toEqual([]);
  });
});

function readCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}
