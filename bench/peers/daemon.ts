/**
 * Runs a proxy (HAProxy, nginx) in the foreground as a child process, pinned with
 * `taskset` when asked, waits (bounded) until it accepts connections on every port it
 * should listen on, and stops it by its own PID. Its stderr is kept for error messages.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { connect } from "node:net";
import { sleep } from "../lib/time.ts";
import { taskset } from "../lib/procs.ts";

export interface Daemon {
  readonly pid: number;
  readonly child: ChildProcess;
  /** The last lines it wrote to stderr/stdout. */
  output(): string;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 10_000;

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.setTimeout(500, () => done(false));
  });
}

export async function startDaemon(name: string, command: string, args: readonly string[], ports: readonly number[], cpu: number | undefined): Promise<Daemon> {
  const pin = cpu !== undefined ? taskset() : null;
  const child = pin !== null && cpu !== undefined ? spawn(pin, ["-c", String(cpu), command, ...args], { stdio: ["ignore", "pipe", "pipe"] }) : spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  const keep = (chunk: Buffer): void => {
    lines.push(...chunk.toString().split("\n").filter((l) => l.trim() !== ""));
    if (lines.length > 20) lines.splice(0, lines.length - 20);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  // Whatever ends this process, the proxy ends with it.
  const killOnExit = (): void => {
    child.kill("SIGKILL");
  };
  process.once("exit", killOnExit);
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once("exit", (code) => {
      exitCode = code;
      process.removeListener("exit", killOnExit);
      resolve();
    }),
  );
  const output = (): string => lines.join("\n");
  const stop = async (): Promise<void> => {
    if (exitCode !== undefined) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
    await exited;
    clearTimeout(timer);
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exitCode !== undefined) throw new Error(`${name} exited with code ${exitCode} before it was ready: ${output()}`);
    const ready = await Promise.all(ports.map(accepts));
    if (ready.every(Boolean)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} not accepting on ${ports.join(", ")} after ${READY_TIMEOUT_MS} ms: ${output()}`);
    }
    await sleep(50);
  }
  if (child.pid === undefined) throw new Error(`${name} has no PID`);
  return { pid: child.pid, child, output, stop };
}
