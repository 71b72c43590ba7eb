/**
 * Runs the real `push-edge` binary (cli/bin/push-edge.js, started by whatever `node` its
 * shebang finds, which re-executes the CLI on the pinned Node 22) and collects its output.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "../../../infra/local/edge.ts";
import { withTimeout } from "./wait.ts";

export const PUSH_EDGE_BIN = join(REPO_ROOT, "cli", "bin", "push-edge.js");

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunningCli {
  readonly child: ChildProcess;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  readonly done: Promise<CliResult>;
}

/** Starts the binary; the environment's PUSH_EDGE_* variables are cleared unless given. */
export function startCli(args: readonly string[], env: Record<string, string> = {}): RunningCli {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("PUSH_EDGE_")));
  const child = spawn(PUSH_EDGE_BIN, [...args], { cwd: REPO_ROOT, env: { ...clean, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout: out, stderr: err }));
  });
  return { child, stdout: () => out, stderr: () => err, done };
}

/** Runs the binary to its end, bounded. */
export async function runCli(args: readonly string[], env: Record<string, string> = {}, ms = 30_000): Promise<CliResult> {
  const running = startCli(args, env);
  try {
    return await withTimeout(running.done, ms, `push-edge ${args.join(" ")}`);
  } finally {
    if (running.child.exitCode === null && running.child.signalCode === null) running.child.kill("SIGTERM"); // the launcher passes it on to the CLI
  }
}
