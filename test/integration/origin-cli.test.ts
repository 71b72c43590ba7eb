// The origin CLI as a real child process: the ready line other tools parse, request log
// lines, clean exit on SIGTERM with a stream open, and exit 2 naming the bad flag.

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { httpJson, openSse } from "./support/http-clients.ts";
import { WAIT_MS, withTimeout } from "./support/wait.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MAIN = fileURLToPath(new URL("../../infra/origin/main.ts", import.meta.url));
// The pinned Node 22 (strips TypeScript types); vitest itself may run on an older node.
const PINNED_NODE = fileURLToPath(new URL("../../node_modules/.bin/node", import.meta.url));
const NODE = existsSync(PINNED_NODE) ? PINNED_NODE : process.execPath;

type Child = {
  process: ChildProcess;
  /** The next stdout line that parses as JSON and satisfies `match`. */
  nextLine(match: (line: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>>;
  stderr(): string;
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
};

const started: ChildProcess[] = [];

function run(args: string[]): Child {
  const child = spawn(NODE, [MAIN, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  started.push(child);
  const lines: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  let stdoutBuffer = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8");
  child.stdout?.on("data", (chunk: string) => {
    stdoutBuffer += chunk;
    let newline: number;
    while ((newline = stdoutBuffer.indexOf("\n")) !== -1) {
      const line = stdoutBuffer.slice(0, newline);
      stdoutBuffer = stdoutBuffer.slice(newline + 1);
      lines.push(JSON.parse(line) as Record<string, unknown>); // stdout must be JSON lines only
      for (const waiter of waiters.splice(0)) waiter();
    }
  });
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      for (const waiter of waiters.splice(0)) waiter();
      resolve({ code, signal });
    });
  });
  return {
    process: child,
    nextLine(match, what) {
      const find = (): Record<string, unknown> | undefined => {
        const index = lines.findIndex(match);
        return index === -1 ? undefined : lines.splice(index, 1)[0];
      };
      return withTimeout(
        new Promise((resolve, reject) => {
          const check = (): void => {
            const found = find();
            if (found !== undefined) resolve(found);
            else if (child.exitCode !== null) reject(new Error(`origin exited before ${what}; stderr: ${stderr}`));
            else waiters.push(check);
          };
          check();
        }),
        WAIT_MS,
        what,
      );
    },
    stderr: () => stderr,
    exited: () => withTimeout(exited, WAIT_MS, "the origin process to exit"),
  };
}

afterEach(() => {
  // Only the children this file started, by their own handle.
  for (const child of started.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
});

describe("origin CLI", () => {
  it("prints the ready line, logs requests, and exits 0 on SIGTERM with a stream open", async () => {
    const origin = run([
      "--id", "cli-1",
      "--listen", "combined=127.0.0.1:0",
      "--listen", "control=127.0.0.1:0,proxy=require",
      "--interval-ms", "0",
    ]);
    const ready = await origin.nextLine((line) => line.event === "ready", "the ready line");
    expect(Object.keys(ready)).toEqual(["event", "id", "listeners"]);
    expect(ready.id).toBe("cli-1");
    const listeners = ready.listeners as Array<{ kind: string; url: string; proxy: string }>;
    expect(listeners.map((l) => [l.kind, l.proxy])).toEqual([["combined", "accept"], ["control", "require"]]);
    for (const listener of listeners) {
      expect(Object.keys(listener)).toEqual(["kind", "url", "proxy"]);
      expect(listener.url).toMatch(/^http:\/\/127\.0\.0\.1:[1-9]\d*$/);
    }
    const base = listeners[0]?.url ?? "";

    const created = await httpJson(`${base}/session`, { method: "POST" });
    expect(created.headers["x-origin-id"]).toBe("cli-1");
    const sid = (created.body as { id: string }).id;
    const logged = await origin.nextLine((line) => line.event === "request" && line.path === "/session", "the request line");
    expect(logged).toMatchObject({ event: "request", id: "cli-1", method: "POST", path: "/session", client: "127.0.0.1", via: "socket", status: 201, session: sid });
    expect(Object.keys(logged).slice(0, 7)).toEqual(["event", "id", "method", "path", "client", "via", "status"]);

    const stream = await openSse(`${base}/session/${sid}/stream`);
    origin.process.kill("SIGTERM");
    expect(await origin.exited()).toEqual({ code: 0, signal: null });
    expect(["end", "close"]).toContain(await stream.ended());
  });

  it("exits 2 and names the flag when a flag is bad", async () => {
    for (const [args, flag] of [
      [["--id", "x", "--listen", "combined=127.0.0.1:0", "--proxy", "sometimes"], "--proxy"],
      [["--id", "x", "--listen", "sideways=127.0.0.1:0"], "--listen"],
      [["--id", "x"], "--listen"],
      [["--id", "x", "--listen", "combined=127.0.0.1:0", "--interval-ms", "fast"], "--interval-ms"],
      [["--id", "x", "--listen", "combined=127.0.0.1:0", "--proxy-trusted", "10.0.0.999"], "--proxy-trusted"],
      [["--id", "x", "--listen", "combined=127.0.0.1:0", "--frobnicate", "1"], "--frobnicate"],
    ] as const) {
      const origin = run([...args]);
      expect(await origin.exited(), args.join(" ")).toEqual({ code: 2, signal: null });
      expect(origin.stderr()).toContain(`${flag}:`);
    }
  });

  it("exits 1 with a message naming the listener when the port is taken", async () => {
    const first = run(["--id", "cli-a", "--listen", "combined=127.0.0.1:0"]);
    const ready = await first.nextLine((line) => line.event === "ready", "the first ready line");
    const url = (ready.listeners as Array<{ url: string }>)[0]?.url ?? "";
    const port = new URL(url).port;
    const second = run(["--id", "cli-b", "--listen", `combined=127.0.0.1:${port}`]);
    expect((await second.exited()).code).toBe(1);
    expect(second.stderr()).toContain(`combined=127.0.0.1:${port}`);
    first.process.kill("SIGINT");
    expect((await first.exited()).code).toBe(0);
  });
});
