/**
 * Runs the edge Worker the way production runs it: the deploy bundle that
 * `wrangler deploy --dry-run` builds, served by workerd through Miniflare directly —
 * without `wrangler dev`'s extra proxy in front, which costs 2-3x in latency.
 * Bindings, Durable Objects and compatibility settings come from wrangler.toml.
 */
import { spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Miniflare, convertV4MiniflareOptions, type V4MiniflareOptions } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { validateEdgeVars } from "./validate-config.ts";

export const REPO_ROOT = resolve(import.meta.dirname, "../..");
export const DEFAULT_BUILD_DIR = join(REPO_ROOT, ".build", "edge");

export interface EdgeOptions {
  readonly host?: string;
  readonly port: number;
  /** Vars and secrets, overriding wrangler.toml's [vars]. */
  readonly vars: Record<string, string>;
  readonly buildDir?: string;
  /** Skip the build (the bundle in buildDir is current). */
  readonly prebuilt?: boolean;
  /** Keep Durable Object storage in this directory across restarts (default: in memory). */
  readonly persistDir?: string;
  readonly log?: (line: string) => void;
  /** Open workerd's DevTools inspector here (CPU profiles: tools/profile/). */
  readonly inspectorPort?: number;
}

export interface RunningEdge {
  readonly url: string;
  readonly miniflare: Miniflare;
  close(): Promise<void>;
}

/** Bundles the Worker exactly as `wrangler deploy` would, without uploading it. */
export async function buildEdge(outdir = DEFAULT_BUILD_DIR): Promise<void> {
  await mkdir(outdir, { recursive: true });
  // Run wrangler with this process's Node (>= 22), not whatever `node` is first on PATH.
  const wrangler = join(REPO_ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
  const output: string[] = [];
  const code = await new Promise<number | null>((done, fail) => {
    const child = spawn(process.execPath, [wrangler, "deploy", "--dry-run", "--outdir", outdir], {
      cwd: REPO_ROOT,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.on("data", (d: Buffer) => output.push(d.toString()));
    child.stderr.on("data", (d: Buffer) => output.push(d.toString()));
    child.on("error", fail);
    child.on("exit", done);
  });
  if (code !== 0) throw new Error(`wrangler deploy --dry-run failed (exit ${code}):\n${output.join("")}`);
}

export async function startEdge(options: EdgeOptions): Promise<RunningEdge> {
  const buildDir = options.buildDir ?? DEFAULT_BUILD_DIR;
  if (options.prebuilt !== true) await buildEdge(buildDir);
  const fromToml = unstable_getMiniflareWorkerOptions(join(REPO_ROOT, "wrangler.toml"));
  const tomlVars = (fromToml.workerOptions.bindings ?? {}) as Record<string, unknown>;
  validateEdgeVars({
    ...Object.fromEntries(Object.entries(tomlVars).filter((e): e is [string, string] => typeof e[1] === "string")),
    ...options.vars,
  });
  // The bundle is one ES module: wrangler's module rules for the sources do not apply.
  const { modulesRules: _rules, ...tomlOptions } = fromToml.workerOptions;
  const worker = {
    ...tomlOptions,
    name: "push-edge",
    modules: true,
    scriptPath: join(buildDir, "index.js"),
    bindings: { ...(fromToml.workerOptions.bindings ?? {}), ...options.vars },
  };
  const log = options.log;
  const v4: V4MiniflareOptions = {
    host: options.host ?? "127.0.0.1",
    port: options.port,
    workers: [worker],
    // Miniflare 5 keeps every resource (Durable Objects included) under one persistence path.
    ...(options.persistDir === undefined ? {} : { resourcePersistencePath: options.persistDir }),
  };
  const miniflare = new Miniflare({
    ...convertV4MiniflareOptions(v4),
    ...(options.inspectorPort === undefined ? {} : { inspectorPort: options.inspectorPort }),
    // Worker console output, one line each, to the caller's log.
    handleStructuredLogs: (entry) => log?.(entry.message),
  });
  const url = await miniflare.ready;
  return {
    url: url.origin,
    miniflare,
    close: () => miniflare.dispose(),
  };
}
