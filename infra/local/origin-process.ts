/**
 * Starts a reference origin as a real child process and waits for its `ready` line.
 * Used by the local stack, integration tests and benchmarks.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { REPO_ROOT } from "./edge.ts";

export interface OriginProcess {
  readonly id: string;
  /** URL of the first listener (the combined one, as the local stack starts it). */
  readonly url: string;
  readonly listeners: ReadonlyArray<{ kind: string; url: string; proxy: string }>;
  readonly child: ChildProcess;
  /** Sends SIGTERM and waits for exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

const ORIGIN_MAIN = join(REPO_ROOT, "infra", "origin", "main.ts");
const READY_TIMEOUT_MS = 15_000;

export async function startOriginProcess(
  id: string,
  args: readonly string[],
  log: (line: string) => void = () => {},
): Promise<OriginProcess> {
  const child = spawn(process.execPath, [ORIGIN_MAIN, "--id", id, ...args], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  // Whichever way this process ends (Miniflare's signal hook calls process.exit), its
  // origins end with it instead of lingering as orphans.
  const killOnExit = (): void => {
    child.kill("SIGTERM");
  };
  process.once("exit", killOnExit);
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      process.removeListener("exit", killOnExit);
      resolve();
    }),
  );
  createInterface({ input: child.stderr }).on("line", (line) => log(`[${id}] ${line}`));
  const lines = createInterface({ input: child.stdout });

  const ready = await new Promise<{ listeners: OriginProcess["listeners"] }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`origin ${id} not ready after ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`origin ${id} exited with code ${code} before it was ready`));
    });
    lines.on("line", (line) => {
      let event: unknown;
      try {
        event = JSON.parse(line);
      } catch {
        return;
      }
      if (typeof event === "object" && event !== null && (event as { event?: unknown }).event === "ready") {
        clearTimeout(timer);
        resolve(event as { listeners: OriginProcess["listeners"] });
      }
    });
  }).catch((err: unknown) => {
    child.kill("SIGKILL");
    throw err;
  });

  const first = ready.listeners[0];
  if (first === undefined) throw new Error(`origin ${id} reported no listener`);
  return {
    id,
    url: first.url,
    listeners: ready.listeners,
    child,
    async stop(graceMs = 5_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
