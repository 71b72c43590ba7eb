/**
 * The local stack for chaos and soak runs: reference origins as child processes, each
 * behind its own fault proxy (chaos/faults/fault-proxy.ts), and the edge in workerd
 * pointed at the proxies. Knows every process it started (origins, each workerd
 * incarnation) so a run can prove none outlived it.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, isolateHeapMiB } from "../../infra/local/inspector.ts";
import { ADMIN_LISTENER, startStack, type RunningStack } from "../../infra/local/stack.ts";
import { startOriginProcess, type OriginProcess } from "../../infra/local/origin-process.ts";
import { startFaultProxy, type FaultProxy } from "../faults/fault-proxy.ts";
import { alive, workerdPids } from "./processes.ts";

export interface ChaosOrigin {
  readonly id: string;
  /** The origin itself, not through the proxy. */
  readonly directUrl: string;
  /** The origin's admin listener: its /_debug/requests log (never on directUrl, issue 16 F2). */
  readonly adminUrl: string;
  readonly process: OriginProcess;
  readonly proxy: FaultProxy;
}

export interface ChaosStackOptions {
  readonly originCount: number;
  /** Sessions end (told to reconnect) after this long; what makes every session object clean up. */
  readonly maxSessionSeconds: number;
  /** Keep Durable Object state on disk, so it survives restartEdge(). */
  readonly persist?: boolean;
  /** The pool's health checks (default: every 500 ms, 400 ms timeout — faults are seen fast). */
  readonly health?: { intervalMs: number; timeoutMs: number; rise: number; fall: number };
  /** No fault proxies: the edge talks to the origins straight (the soak, where no fault is injected). */
  readonly direct?: boolean;
  readonly prebuilt?: boolean;
  readonly originArgs?: readonly string[];
  /** More pool settings, over the chaos pool's own (a scenario's network budget, say). */
  readonly poolSettings?: Record<string, unknown>;
  /** The pool's relay mode (`edge` is the default). */
  readonly relay?: "edge" | "object";
  /** Open workerd's inspector, so `heapMiB()` can read the edge isolate's heap. */
  readonly inspect?: boolean;
  readonly log?: (line: string) => void;
}

export interface ChaosStack {
  readonly edgeUrl: string;
  readonly adminToken: string;
  readonly origins: readonly ChaosOrigin[];
  readonly stack: RunningStack;
  /** Every workerd PID seen so far (one per edge incarnation). */
  readonly workerdPids: ReadonlySet<number>;
  restartEdge(): Promise<void>;
  /** The edge isolate's JS heap after a full GC, MiB (infra/local/inspector.ts); undefined without `inspect`. */
  heapMiB(): Promise<number | undefined>;
  /** Stops everything; returns the PIDs that are still alive afterwards (should be none). */
  close(): Promise<number[]>;
}

/** The chaos origins' WebSocket ping period (a peer silent for a whole period is dropped). */
export const PING_INTERVAL_MS = 5_000;

/** Expiry jitter the chaos pool uses: a session ends within [max, max × 1.1]. */
export const EXPIRY_JITTER = 0.1;

export async function startChaosStack(options: ChaosStackOptions): Promise<ChaosStack> {
  const log = options.log ?? (() => {});
  const processes: OriginProcess[] = [];
  const proxies: FaultProxy[] = [];
  const persistDir = options.persist === true ? await mkdtemp(join(tmpdir(), "push-edge-chaos-")) : undefined;
  const inspectorPort = options.inspect === true ? await freePort() : undefined;
  try {
    const started = await Promise.all(
      Array.from({ length: options.originCount }, (_, i) =>
        startOriginProcess(
          `o${i + 1}`,
          [
            "--listen",
            "combined=127.0.0.1:0",
            "--listen",
            ADMIN_LISTENER,
            // SSE keep-alives well inside the clients' liveness timeout. The origin drops a
            // WebSocket peer that answers no ping for a whole ping period: longer than the
            // stall scenario's freeze, so a short stall alone ends no WebSocket.
            "--keepalive-ms",
            "1000",
            "--ping-interval-ms",
            String(PING_INTERVAL_MS),
            // Big enough that no request of a run falls out of the misroute check's view.
            "--request-log-size",
            "1000000",
            ...(options.originArgs ?? []),
          ],
          log,
        ),
      ),
    );
    processes.push(...started);
    for (const p of started) proxies.push(await startFaultProxy(p.url));
    const origins = started.map((p, i) => ({ id: p.id, directUrl: p.url, adminUrl: p.adminUrl ?? "", process: p, proxy: proxies[i] as FaultProxy }));
    const stack = await startStack({
      port: 0,
      prebuilt: options.prebuilt ?? true,
      origins: origins.map((o) => ({ id: o.id, url: options.direct === true ? o.directUrl : o.proxy.url })),
      poolSettings: {
        health: options.health ?? { intervalMs: 500, timeoutMs: 400, rise: 1, fall: 2 },
        maxSessionSeconds: options.maxSessionSeconds,
        expiryJitter: EXPIRY_JITTER,
        // Rebalancing would cut sessions on purpose after an origin recovers; the chaos
        // suite wants to see what the faults alone do.
        rebalance: { enabled: false },
        ...options.poolSettings,
        ...(options.relay === undefined ? {} : { relay: options.relay }),
      },
      ...(persistDir === undefined ? {} : { persistDir }),
      ...(inspectorPort === undefined ? {} : { inspectorPort }),
      log,
    });
    const seen = new Set<number>(workerdPids());
    return {
      edgeUrl: stack.edgeUrl,
      adminToken: stack.adminToken,
      origins,
      stack,
      workerdPids: seen,
      async restartEdge() {
        await stack.restartEdge();
        for (const pid of workerdPids()) seen.add(pid);
      },
      heapMiB: () => (inspectorPort === undefined ? Promise.resolve(undefined) : isolateHeapMiB(inspectorPort)),
      async close() {
        for (const pid of workerdPids()) seen.add(pid);
        await stack.close();
        await Promise.allSettled([...processes.map((p) => p.stop(2_000)), ...proxies.map((p) => p.close())]);
        if (persistDir !== undefined) await rm(persistDir, { recursive: true, force: true });
        const pids = [...seen, ...processes.map((p) => p.child.pid ?? -1)].filter((pid) => pid > 0);
        // A process may take a moment to be reaped after its exit.
        for (let i = 0; i < 20 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
        return pids.filter(alive);
      },
    };
  } catch (err) {
    await Promise.allSettled([...processes.map((p) => p.stop(2_000)), ...proxies.map((p) => p.close())]);
    throw err;
  }
}
