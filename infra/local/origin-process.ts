/**
 * Starts an origin as a real child process and waits for its JSON `ready` line: the
 * reference origin (`startOriginProcess`) or any server script that prints
 * `{"event":"ready","url":...}` (`startReadyProcess`, e.g. a Socket.IO server in tests).
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
  /** URL of its `admin` listener (/admin/state, /_debug/requests), when it has one. */
  readonly adminUrl: string | undefined;
  readonly child: ChildProcess;
  /** Sends SIGTERM and waits for exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

const ORIGIN_MAIN = join(REPO_ROOT, "infra", "origin", "main.ts");
const READY_TIMEOUT_MS = 15_000;

export function startOriginProcess(
  id: string,
  args: readonly string[],
  log: (line: string) => void = () => {},
): Promise<OriginProcess> {
  return startReadyProcess(ORIGIN_MAIN, id, ["--id", id, ...args], log);
}

/** Runs `node <entry> <args>` and waits for its ready line; `id` names it in logs. */
export async function startReadyProcess(
  entry: string,
  id: string,
  args: readonly string[],
  log: (line: string) => void = () => {},
): Promise<OriginProcess> {
  const child = spawn(process.execPath, [entry, ...args], {
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

  const ready = await new Promise<{ url?: string; listeners?: OriginProcess["listeners"] }>((resolve, reject) => {
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
        resolve(event as { url?: string; listeners?: OriginProcess["listeners"] });
      }
    });
  }).catch((err: unknown) => {
    child.kill("SIGKILL");
    throw err;
  });

  // The reference origin lists its listeners; a plain server names one URL.
  const listeners = ready.listeners ?? (ready.url === undefined ? [] : [{ kind: "combined", url: ready.url, proxy: "none" }]);
  const first = listeners[0];
  if (first === undefined) throw new Error(`origin ${id} reported no listener`);
  return {
    id,
    url: first.url,
    listeners,
    adminUrl: listeners.find((l) => l.kind === "admin")?.url,
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
