/**
 * `npm start`'s program as a user runs it: prints `ready` with the edge URL, serves, and
 * on SIGTERM stops what it started — and only that.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterEach, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../infra/local/edge.ts";
import { startStack } from "../../infra/local/stack.ts";
import { startOrigin, type RunningOrigin } from "../../infra/origin/origin.ts";
import { withTimeout } from "./support/wait.ts";

const START = join(REPO_ROOT, "infra", "local", "start.ts");
let running: ChildProcess | undefined;
let external: RunningOrigin | undefined;

afterEach(async () => {
  if (running !== undefined && running.exitCode === null && running.signalCode === null) running.kill("SIGKILL");
  running = undefined;
  await external?.close();
  external = undefined;
});

interface Started {
  readonly child: ChildProcess;
  readonly edgeUrl: string;
  readonly lines: string[];
  readonly exited: Promise<number | null>;
}

async function start(args: string[]): Promise<Started> {
  const child = spawn(process.execPath, [START, "--port", "0", ...args], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
  running = child;
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  createInterface({ input: child.stderr }).on("line", (l) => lines.push(l));
  const edgeUrl = await withTimeout(
    new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).on("line", (line) => {
        lines.push(line);
        const m = /ready: edge (http:\/\/\S+)/.exec(line);
        if (m?.[1] !== undefined) resolve(m[1]);
      });
      void exited.then((code) => reject(new Error(`exited with ${code}:\n${lines.join("\n")}`)));
    }),
    90_000,
    "the ready line",
  );
  return { child, edgeUrl, lines, exited };
}

async function refuses(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return false;
  } catch {
    return true;
  }
}

describe("npm start", () => {
  it("starts reference origins and the edge, prints ready and the admin token, and stops them on SIGTERM", async () => {
    const s = await start(["--origin-count", "2", "--origin-port", "0", "--demo-port", "0"]);
    expect(s.lines.some((l) => l.includes("admin token"))).toBe(true);
    const originUrls = s.lines.flatMap((l) => /origin o\d\s+(http:\/\/\S+)/.exec(l)?.[1] ?? []);
    expect(originUrls).toHaveLength(2);
    const res = await fetch(`${s.edgeUrl}/session`, { method: "POST" });
    expect(res.status).toBe(201);
    expect(["o1", "o2"]).toContain(res.headers.get("x-origin-id"));

    s.child.kill("SIGTERM");
    await withTimeout(s.exited, 15_000, "the stack to exit");
    expect(s.lines.some((l) => l.includes("stopping"))).toBe(true);
    expect(await refuses(`${s.edgeUrl}/_edge/health`)).toBe(true);
    // The origin processes are told to stop; give them a moment to release their ports.
    for (const url of originUrls) {
      let gone = false;
      for (let i = 0; i < 50 && !gone; i++) {
        gone = await refuses(`${url}/health`);
        if (!gone) await new Promise((r) => setTimeout(r, 100));
      }
      expect(gone).toBe(true);
    }
  });

  it("fronts external origins given with --origins, and leaves them running", async () => {
    external = await startOrigin({ id: "ext", listeners: [{ kind: "combined", host: "127.0.0.1", port: 0 }] });
    const url = external.listeners[0]?.url ?? "";
    const s = await start(["--origins", `ext=${url}`, "--demo-port", "0"]);
    const res = await fetch(`${s.edgeUrl}/session`, { method: "POST" });
    expect(res.status).toBe(201);
    expect(res.headers.get("x-origin-id")).toBe("ext");
    s.child.kill("SIGTERM");
    await withTimeout(s.exited, 15_000, "the stack to exit");
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });

  it("refuses to start with an invalid configuration, naming the field", async () => {
    const bad = JSON.stringify({ pools: [{ name: "default", origins: [{ id: "a", url: "http://127.0.0.1:1" }], settings: { health: { rise: 0 } } }] });
    await expect(startStack({ port: 0, origins: [{ id: "a", url: "http://127.0.0.1:1" }], prebuilt: true, vars: { POOLS: bad } })).rejects.toThrow(
      /POOLS\.pools\[0\]\.settings\.health\.rise/,
    );
  });

  it("rejects a bad flag with a message naming it, exit code 2", async () => {
    const child = spawn(process.execPath, [START, "--port", "eighty"], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const code = await withTimeout(new Promise<number | null>((resolve) => child.once("exit", resolve)), 15_000, "exit");
    expect(code).toBe(2);
    expect(err).toContain("--port");
  });
});
