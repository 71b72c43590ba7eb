/**
 * Runs a floor Worker (bench/floors/worker.ts or object.ts) in workerd through Miniflare,
 * the way infra/local/edge.ts runs the edge: one ES module bundled offline (esbuild, no
 * wrangler), the edge's compatibility date and flags, no proxy in front. Each call is its
 * own workerd process, so memory and CPU per floor are read from /proc like the edge's.
 */
import { join } from "node:path";
import { build } from "esbuild";
import { Miniflare, convertV4MiniflareOptions, type V4MiniflareOptions } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { REPO_ROOT } from "../../infra/local/edge.ts";
import { childPids } from "./procs.ts";

export type FloorKind = "worker" | "object";

export interface RunningFloor {
  readonly kind: FloorKind;
  readonly url: string;
  /** workerd's pid(s) for this floor (started by Miniflare as this process's child). */
  readonly pids: readonly number[];
  close(): Promise<void>;
}

const bundles = new Map<FloorKind, Promise<string>>();

/** The floor's code as one ES module (built once per run). */
function bundle(kind: FloorKind): Promise<string> {
  let pending = bundles.get(kind);
  if (pending === undefined) {
    pending = build({
      entryPoints: [join(REPO_ROOT, "bench", "floors", `${kind}.ts`)],
      bundle: true,
      format: "esm",
      platform: "neutral",
      target: "es2023",
      external: ["cloudflare:workers"],
      write: false,
    }).then((out) => {
      const file = out.outputFiles[0];
      if (file === undefined) throw new Error(`esbuild produced no output for bench/floors/${kind}.ts`);
      return file.text;
    });
    bundles.set(kind, pending);
  }
  return pending;
}

export async function startFloor(
  kind: FloorKind,
  origins: ReadonlyArray<{ id: string; url: string }>,
  options: { port?: number; log?: (line: string) => void } = {},
): Promise<RunningFloor> {
  const script = await bundle(kind);
  // The edge's compatibility settings, so the floor runs on the same runtime behaviour.
  const toml = unstable_getMiniflareWorkerOptions(join(REPO_ROOT, "wrangler.toml")).workerOptions;
  const compatibilityDate = typeof toml.compatibilityDate === "string" ? toml.compatibilityDate : undefined;
  const compatibilityFlags = Array.isArray(toml.compatibilityFlags) ? toml.compatibilityFlags.filter((f): f is string => typeof f === "string") : undefined;
  const before = new Set(childPids("workerd"));
  const v4: V4MiniflareOptions = {
    host: "127.0.0.1",
    port: options.port ?? 0,
    workers: [
      {
        name: `floor-${kind}`,
        modules: [{ type: "ESModule", path: `floor-${kind}.js`, contents: script }],
        ...(compatibilityDate === undefined ? {} : { compatibilityDate }),
        ...(compatibilityFlags === undefined ? {} : { compatibilityFlags }),
        bindings: { ORIGINS: JSON.stringify(origins) },
        ...(kind === "object" ? { durableObjects: { FLOOR: { className: "FloorObject", useSQLite: true } } } : {}),
      },
    ],
  };
  const log = options.log;
  const miniflare = new Miniflare({ ...convertV4MiniflareOptions(v4), handleStructuredLogs: (entry) => log?.(entry.message) });
  const url = await miniflare.ready;
  const pids = childPids("workerd").filter((p) => !before.has(p));
  return { kind, url: url.origin, pids, close: () => miniflare.dispose() };
}
