/**
 * The README's Quick start, followed literally: its commands are read from README.md and
 * run through `sh` as a reader would type them — `npm start` with the free-port flags the
 * README documents for a busy machine, then, in "a second terminal", the curl and
 * `npx push-edge` commands of the walk-through with the values they produce ($ID, $TOKEN,
 * the ready line's URL in place of http://127.0.0.1:8787, as the README says) — then
 * Ctrl-C (SIGINT to the process group, as a terminal sends it) stops everything.
 * Not run from it: `npm install` (would change node_modules), `npm test` (runs this file)
 * and `npm run bench` (minutes long; bench/ has its own tests).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../infra/local/edge.ts";
import { withTimeout } from "./support/wait.ts";

const README_URL = "http://127.0.0.1:8787";

/** The Quick start's sh blocks, as lists of commands (comments and blank lines dropped). */
function quickStartBlocks(): string[][] {
  const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
  const start = readme.indexOf("\n## Quick start\n");
  expect(start, "README.md has a Quick start section").toBeGreaterThan(0);
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) =>
    (m[1] ?? "")
      .split("\n")
      .map((line) => line.replace(/\s+#\s.*$/, "").trim())
      .filter((line) => line !== ""),
  );
}

function commandStarting(blocks: string[][], prefix: string): string {
  const found = blocks.flat().find((c) => c.startsWith(prefix));
  if (found === undefined) throw new Error(`the README's Quick start no longer has a command starting with ${JSON.stringify(prefix)}`);
  return found;
}

let stack: ChildProcess | undefined;
afterAll(() => {
  // Only if the test failed before its own Ctrl-C: the group this test started, nothing else.
  if (stack?.pid !== undefined && stack.exitCode === null && stack.signalCode === null) process.kill(-stack.pid, "SIGTERM");
});

interface Shell {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** One command in "the second terminal": sh, with the README's export line and $ID/$TOKEN set. */
function sh(command: string, env: Record<string, string>, ms = 60_000): Promise<Shell> {
  const child = spawn("sh", ["-c", command], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return withTimeout(new Promise<Shell>((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr }))), ms, command);
}

function header(response: string, name: string): string {
  const m = new RegExp(`^${name}:\\s*(.+?)\\r?$`, "im").exec(response);
  if (m?.[1] === undefined) throw new Error(`no ${name} header in:\n${response}`);
  return m[1];
}

describe("README Quick start", () => {
  it("works as written: npm start, the walk-through's curl and CLI commands, Ctrl-C", async () => {
    const blocks = quickStartBlocks();
    const startCommand = commandStarting(blocks, "npm start -- --port 0");
    const exportLine = commandStarting(blocks, "export PUSH_EDGE_URL=");
    const walkThrough = blocks.find((b) => b[0]?.startsWith("curl -si -X POST")) ?? [];
    expect(walkThrough.length, "the walk-through block").toBeGreaterThanOrEqual(6);

    // Terminal 1: npm start, its own process group like a shell job.
    stack = spawn("sh", ["-c", startCommand], { cwd: REPO_ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const child = stack;
    const lines: string[] = [];
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    createInterface({ input: child.stderr ?? process.stdin }).on("line", (l) => lines.push(l));
    const edgeUrl = await withTimeout(
      new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout ?? process.stdin }).on("line", (line) => {
          lines.push(line);
          const m = /ready: edge (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
          if (m?.[1] !== undefined) resolve(m[1]);
        });
        void exited.then((code) => reject(new Error(`npm start exited with ${code}:\n${lines.join("\n")}`)));
      }),
      120_000,
      "the ready line",
    );
    const origins = lines.flatMap((l) => {
      const m = /origin (o\d)\s+(http:\/\/\S+)/.exec(l);
      return m?.[1] === undefined || m[2] === undefined ? [] : [{ id: m[1], url: m[2] }];
    });
    expect(origins.map((o) => o.id)).toEqual(["o1", "o2", "o3"]);
    expect(lines.some((l) => l.includes("admin token (dev only): dev-admin-token-local"))).toBe(true);

    // Terminal 2: the README's export line with PORT from the ready line, then each command.
    const port = new URL(edgeUrl).port;
    const prelude = `${exportLine.replace("PORT", port)}; `;
    const env: Record<string, string> = {};
    const run = (command: string, ms?: number) => sh(prelude + command.replaceAll(README_URL, edgeUrl), env, ms);

    const [create, stream, pool, status, inspect, session] = walkThrough;
    expect(create).toBe(`curl -si -X POST ${README_URL}/session`);
    const s = await run(create ?? "");
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/^HTTP\/1\.1 201/);
    const origin = header(s.stdout, "x-origin-id");
    env.ID = header(s.stdout, "x-session-id");
    env.TOKEN = header(s.stdout, "x-affinity-token");

    // The CR stream runs until Ctrl-C: read three events, then end it.
    expect(stream).toContain("$TOKEN");
    const curl = spawn("sh", ["-c", prelude + (stream ?? "").replaceAll(README_URL, edgeUrl)], {
      env: { ...process.env, ...env },
      detached: true, // its own group, so Ctrl-C reaches curl, not only sh
      stdio: ["ignore", "pipe", "pipe"],
    });
    const curlDone = new Promise<void>((resolve) => curl.once("close", () => resolve()));
    const events: Array<{ origin?: string }> = [];
    await withTimeout(
      new Promise<void>((resolve) => {
        createInterface({ input: curl.stdout }).on("line", (line) => {
          if (line.startsWith("data: ")) events.push(JSON.parse(line.slice(6)) as { origin?: string });
          if (events.length >= 3) resolve();
        });
      }),
      30_000,
      "three events on the CR stream",
    );
    process.kill(-(curl.pid ?? 0), "SIGINT");
    await withTimeout(curlDone, 10_000, "curl to end on Ctrl-C");
    expect(events.map((e) => e.origin)).toEqual([origin, origin, origin]);

    const p = await run(pool ?? "");
    expect(p.code).toBe(0);
    const view = JSON.parse(p.stdout) as { pools: Array<{ name: string; origins: Array<{ id: string; url: string }> }> };
    expect(view.pools[0]?.origins.map((o) => ({ id: o.id, url: o.url }))).toEqual(origins);

    expect(status).toBe("npx push-edge status");
    const st = await run(status ?? "");
    expect(st.code).toBe(0);
    for (const id of ["o1", "o2", "o3"]) expect(st.stdout).toMatch(new RegExp(`^${id}\\s+(up|unchecked)\\s+active\\s`, "m"));

    const tokenInfo = await run(inspect ?? "");
    expect(tokenInfo.code).toBe(0);
    expect(tokenInfo.stdout).toMatch(new RegExp(`verified {2}yes: key dev-1, pool default, session \\S+ on origin ${origin}`));

    // $ID is the origin's session id (X-Session-Id): the CLI finds the session by it.
    expect(session).toBe('npx push-edge session "$ID"');
    const found = await run(session ?? "");
    expect(found.code, found.stderr).toBe(0);
    expect(found.stdout).toMatch(/^matched\s+origin session id \(X-Session-Id\)$/m);
    expect(found.stdout).toMatch(new RegExp(`^origin\\s+${origin} http://`, "m"));
    expect(found.stdout).toMatch(new RegExp(`^origin session id\\s+${(env.ID ?? "").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"));

    // Ctrl-C in terminal 1: SIGINT to the whole foreground group.
    process.kill(-(child.pid ?? 0), "SIGINT");
    await withTimeout(exited, 20_000, "npm start to exit after Ctrl-C");
    expect(lines.some((l) => l.includes("SIGINT, stopping the edge and 3 origins"))).toBe(true);
    const refused = async (url: string) => {
      for (let i = 0; i < 50; i++) {
        const up = await fetch(url, { signal: AbortSignal.timeout(1_000) }).then(
          () => true,
          () => false,
        );
        if (!up) return true;
        await new Promise((r) => setTimeout(r, 100));
      }
      return false;
    };
    expect(await refused(`${edgeUrl}/_edge/health`)).toBe(true);
    for (const o of origins) expect(await refused(`${o.url}/health`)).toBe(true);
  });
});
