/**
 * `npm start`'s program (infra/local/start.ts) as a child process, the way a user runs it:
 * waits (bounded) for its ready line, keeps every line it prints, and stops it with SIGTERM
 * (SIGKILL if it does not exit in time).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { REPO_ROOT } from "../../../infra/local/edge.ts";
import { withTimeout } from "./wait.ts";

const START = join(REPO_ROOT, "infra", "local", "start.ts");

export interface NpmStart {
  readonly child: ChildProcess;
  readonly edgeUrl: string;
  readonly adminToken: string;
  /** stdout lines so far. */
  readonly stdout: string[];
  /** stderr lines so far. */
  readonly stderr: string[];
  stop(): Promise<void>;
}

export async function npmStart(args: readonly string[]): Promise<NpmStart> {
  const child = spawn(process.execPath, [START, "--port", "0", "--demo-port", "0", ...args], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  createInterface({ input: child.stderr }).on("line", (l) => stderr.push(l));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    await withTimeout(exited, 15_000, "npm start to stop").catch(() => child.kill("SIGKILL"));
  };
  try {
    const ready = await withTimeout(
      new Promise<{ edgeUrl: string; adminToken: string }>((resolve, reject) => {
        let adminToken = "";
        createInterface({ input: child.stdout }).on("line", (line) => {
          stdout.push(line);
          const token = /admin token \(dev only\): (\S+)/.exec(line);
          if (token?.[1] !== undefined) adminToken = token[1];
          const m = /ready: edge (http:\/\/\S+)/.exec(line);
          if (m?.[1] !== undefined) resolve({ edgeUrl: m[1], adminToken });
        });
        void exited.then(() => reject(new Error(`npm start exited before ready:\n${[...stdout, ...stderr].join("\n")}`)));
      }),
      120_000,
      "npm start's ready line",
    );
    return { child, stdout, stderr, stop, ...ready };
  } catch (err) {
    await stop();
    throw err;
  }
}
