/**
 * The local stack: N reference origins as child processes plus the edge in workerd,
 * wired together. `npm start` runs it; integration tests and benchmarks start it too.
 */
import { DEV_ADMIN_TOKEN, DEV_AFFINITY_KEYS, DEV_SIGNING_KID } from "./dev-secrets.ts";
import { startDemoSite, type DemoSite } from "./demo-site.ts";
import { startEdge, type RunningEdge } from "./edge.ts";
import { startOriginProcess, type OriginProcess } from "./origin-process.ts";
import { localRelayLimit } from "./relay-limit.ts";

/** How the edge reaches an origin (POOLS `transport` / `proxy`); absent: fetch. */
export interface OriginTransportOptions {
  readonly transport?: "fetch" | "tcp";
  readonly proxy?: { readonly version?: 1 | 2; readonly authKid?: string };
}

export type StackOrigin = { id: string; url: string } & OriginTransportOptions;

export interface StackOptions {
  readonly host?: string;
  /** Edge port; 0 picks a free one. */
  readonly port?: number;
  readonly originCount?: number;
  /** First reference origin's port (then +1, +2...); 0 lets each pick a free one. */
  readonly originBasePort?: number;
  /** Use these external origins instead of starting reference origins. */
  readonly origins?: ReadonlyArray<StackOrigin>;
  /** Transport for the reference origins the stack starts (e.g. tcp with `--proxy require` in originArgs). */
  readonly originTransport?: OriginTransportOptions;
  /** Extra flags for every reference origin (e.g. ["--interval-ms", "100"]). */
  readonly originArgs?: readonly string[];
  /** The pool's settings (health, expiry, rebalancing, admission: see config/pool-settings.ts). */
  readonly poolSettings?: Record<string, unknown>;
  /** Extra vars for the edge (override wrangler.toml and the dev secrets). */
  readonly vars?: Record<string, string>;
  /** The edge bundle is already built. */
  readonly prebuilt?: boolean;
  /** Where the edge bundle is (default: .build/edge); a profile compares two builds this way. */
  readonly buildDir?: string;
  /** Open workerd's DevTools inspector here (tools/profile/). */
  readonly inspectorPort?: number;
  /** Also serve the demo site (a Lightstreamer web client page) on this port; 0 = any free. */
  readonly demoPort?: number;
  /** Keep Durable Object storage here, so it survives `restartEdge()` (default: in memory, lost on restart). */
  readonly persistDir?: string;
  readonly log?: (line: string) => void;
}

export interface RunningStack {
  /** The edge's URL; the same after `restartEdge()` (same port). */
  readonly edgeUrl: string;
  readonly adminToken: string;
  readonly origins: ReadonlyArray<{ id: string; url: string }>;
  /** The current edge (a new one after `restartEdge()`). */
  readonly edge: RunningEdge;
  readonly processes: readonly OriginProcess[];
  readonly demo: DemoSite | undefined;
  /**
   * Stops the edge's workerd and starts a new one on the same port, with `vars` merged over
   * the current ones (e.g. a rotated key ring). Durable Object state survives only with `persistDir`.
   */
  restartEdge(vars?: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_EDGE_PORT = 8787;
export const DEFAULT_ORIGIN_COUNT = 3;
export const DEFAULT_ORIGIN_BASE_PORT = 9001;
export const DEFAULT_DEMO_PORT = 8788;
/**
 * Each reference origin's admin listener (/admin/state, /_debug/requests): its own
 * ephemeral loopback port, never the one the edge relays to (issue 16 F2); no PROXY
 * header, whatever the origin's other listeners require.
 */
export const ADMIN_LISTENER = "admin=127.0.0.1:0,proxy=refuse,proxy-auth=off";

/** Below the open-file limit workerd inherits (relay-limit.ts); wrangler.toml's value where it is unknown. */
function relayLimitVar(): Record<string, string> {
  const limit = localRelayLimit();
  return limit === undefined ? {} : { MAX_OPEN_RELAYS: String(limit) };
}

export async function startStack(options: StackOptions = {}): Promise<RunningStack> {
  const host = options.host ?? "127.0.0.1";
  const log = options.log ?? (() => {});
  const processes: OriginProcess[] = [];
  try {
    let origins: StackOrigin[];
    if (options.origins !== undefined) {
      origins = [...options.origins];
    } else {
      const count = options.originCount ?? DEFAULT_ORIGIN_COUNT;
      const base = options.originBasePort ?? DEFAULT_ORIGIN_BASE_PORT;
      const started = await Promise.all(
        Array.from({ length: count }, (_, i) => {
          const port = base === 0 ? 0 : base + i;
          return startOriginProcess(`o${i + 1}`, ["--listen", `combined=${host}:${port}`, "--listen", ADMIN_LISTENER, ...(options.originArgs ?? [])], log);
        }),
      );
      processes.push(...started);
      origins = started.map((p) => ({ id: p.id, url: p.url, ...options.originTransport }));
    }
    let vars: Record<string, string> = {
      POOLS: JSON.stringify({ pools: [{ name: "default", hosts: ["*"], origins, ...(options.poolSettings === undefined ? {} : { settings: options.poolSettings }) }] }),
      AFFINITY_KEYS: DEV_AFFINITY_KEYS,
      AFFINITY_SIGNING_KID: DEV_SIGNING_KID,
      ADMIN_TOKEN: DEV_ADMIN_TOKEN,
      ...relayLimitVar(),
      ...options.vars,
    };
    const edgeOptions = (port: number, prebuilt: boolean) => ({
      host,
      port,
      prebuilt,
      log,
      ...(options.buildDir === undefined ? {} : { buildDir: options.buildDir }),
      ...(options.inspectorPort === undefined ? {} : { inspectorPort: options.inspectorPort }),
      vars,
      ...(options.persistDir === undefined ? {} : { persistDir: options.persistDir }),
    });
    let edge = await startEdge(edgeOptions(options.port ?? DEFAULT_EDGE_PORT, options.prebuilt ?? false));
    const demo = options.demoPort === undefined ? undefined : await startDemoSite(host, options.demoPort).catch(async (err: unknown) => {
      await edge.close();
      throw err;
    });
    const edgeUrl = edge.url;
    return {
      edgeUrl,
      demo,
      adminToken: options.vars?.ADMIN_TOKEN ?? DEV_ADMIN_TOKEN,
      origins,
      get edge() {
        return edge;
      },
      processes,
      async restartEdge(more = {}) {
        await edge.close();
        vars = { ...vars, ...more };
        // The bundle was built by the first start; reuse the port so clients' URLs still work.
        edge = await startEdge(edgeOptions(Number(new URL(edgeUrl).port), true));
      },
      async close() {
        await Promise.allSettled([edge.close(), demo?.close(), ...processes.map((p) => p.stop())]);
      },
    };
  } catch (err) {
    await Promise.allSettled(processes.map((p) => p.stop()));
    throw err;
  }
}
