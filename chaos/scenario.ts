/**
 * What a chaos scenario is, and the one loop that runs any of them: start a stack whose
 * origins sit behind fault proxies, put a mix of SSE and WebSocket clients on it, let the
 * scenario inject its fault, stop the clients, then check what the suite promises —
 * no lost or duplicated event, no misrouted CR request, no session object and no process
 * left behind — plus whatever the scenario says its fault must have caused (e.g. "every
 * session on the killed origin was told to reconnect").
 */
import { startChaosStack, EXPIRY_JITTER, type ChaosOrigin, type ChaosStack } from "./lib/chaos-stack.ts";
import { fetchOriginLog, misroutedRequests, sessionLeaks, type OriginLog } from "./lib/checks.ts";
import { emptyStats, type ClientStats } from "./lib/client-stats.ts";
import { sleep } from "./lib/http.ts";
import { ChaosClient } from "./lib/session-client.ts";

export interface RunSettings {
  readonly quick: boolean;
  readonly log: (line: string) => void;
  /** The pool's relay mode (config/relay-mode.ts); the pool's default when absent. */
  readonly relay?: "edge" | "object";
}

/** A claim a scenario makes about its own fault's effect. */
export interface Expectation {
  readonly what: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface ScenarioContext {
  readonly stack: ChaosStack;
  readonly clients: readonly ChaosClient[];
  readonly settings: RunSettings;
  /** Origin logs taken before an origin was killed (its log dies with it). */
  readonly savedLogs: OriginLog[];
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  /** Durable Object storage on disk (the edge restart needs it). */
  readonly persist?: boolean;
  /** workerd's inspector open, for `ctx.stack.heapMiB()`. */
  readonly inspect?: boolean;
  /** Pool settings the scenario needs over the chaos pool's (chaos-stack.ts), for a quick run or a full one. */
  poolSettings?(quick: boolean): Record<string, unknown>;
  /** Injects the fault (and lifts it, where it is lifted); returns its claims, checked once clients stopped. */
  inject(ctx: ScenarioContext): Promise<(ctx: ScenarioContext) => Expectation[]>;
}

export interface ScenarioResult {
  readonly scenario: string;
  readonly clients: number;
  readonly stats: ClientStats;
  readonly misroutedCr: number;
  readonly sessionLeaks: number;
  readonly processLeaks: number;
  readonly expectations: readonly Expectation[];
  readonly seconds: number;
  readonly passed: boolean;
  readonly error?: string;
}

/** Sizes and times: `quick` is the `npm test` pass (a few seconds of fault per scenario). */
export function dimensions(quick: boolean) {
  return {
    clients: quick ? 12 : 60,
    intervalMs: 50,
    emitEveryMs: quick ? 500 : 1_000,
    warmupMs: quick ? 800 : 2_000,
    faultMs: quick ? 2_500 : 8_000,
    settleMs: quick ? 1_500 : 3_000,
    livenessMs: quick ? 6_000 : 12_000,
    requestTimeoutMs: quick ? 6_000 : 12_000,
    maxSessionSeconds: quick ? 8 : 30,
  };
}

/** Hard limit for one scenario, whatever happens inside it. */
export function scenarioLimitMs(quick: boolean): number {
  return quick ? 60_000 : 180_000;
}

export async function runScenario(scenario: Scenario, settings: RunSettings): Promise<ScenarioResult> {
  const started = Date.now();
  const dim = dimensions(settings.quick);
  const baselineSockets = activeTcpHandles();
  const stack = await startChaosStack({
    originCount: 3,
    maxSessionSeconds: dim.maxSessionSeconds,
    ...(scenario.persist === true ? { persist: true } : {}),
    ...(scenario.inspect === true ? { inspect: true } : {}),
    ...(scenario.poolSettings === undefined ? {} : { poolSettings: scenario.poolSettings(settings.quick) }),
    ...(settings.relay === undefined ? {} : { relay: settings.relay }),
    log: settings.log,
  });
  const clients = Array.from(
    { length: dim.clients },
    (_, i) =>
      new ChaosClient({
        edgeUrl: stack.edgeUrl,
        transport: i % 2 === 0 ? "sse" : "ws",
        intervalMs: dim.intervalMs,
        emitEveryMs: dim.emitEveryMs,
        livenessMs: dim.livenessMs,
        requestTimeoutMs: dim.requestTimeoutMs,
      }),
  );
  const ctx: ScenarioContext = { stack, clients, settings, savedLogs: [] };
  let lastSessionAt = Date.now();
  let expectations: Expectation[] = [];
  let misrouted = 0;
  let leaks = 0;
  let error: string | undefined;
  let runs: Array<Promise<void>> = [];
  try {
    runs = clients.map((c) => c.run());
    await until(() => clients.every((c) => c.origin !== undefined), dim.requestTimeoutMs * 2, "every client to have a session");
    await sleep(dim.warmupMs);
    const check = await scenario.inject(ctx);
    await sleep(dim.settleMs);
    for (const c of clients) c.stop();
    await Promise.race([Promise.all(runs), sleep(dim.requestTimeoutMs * 2)]);
    lastSessionAt = Date.now();
    expectations = check(ctx);

    const live = await Promise.all(stack.origins.filter((o) => o.process.child.exitCode === null && o.process.child.signalCode === null).map((o) => fetchOriginLog(o.id, o.adminUrl)));
    const wrong = misroutedRequests([...ctx.savedLogs.filter((l) => !live.some((x) => x.origin === l.origin)), ...live]);
    misrouted = wrong.length + clients.reduce((n, c) => n + c.stats.misrouted, 0);
    if (wrong.length > 0) settings.log(`misrouted: ${JSON.stringify(wrong.slice(0, 5))}`);

    // Every session (the last ones were opened just now) must have expired and been cleaned up.
    const expiryMs = dim.maxSessionSeconds * 1000 * (1 + EXPIRY_JITTER);
    await sleep(Math.max(0, lastSessionAt + expiryMs - Date.now()));
    const tokens = clients.flatMap((c) => c.history.map((s) => s.token));
    const report = await sessionLeaks(stack.edgeUrl, stack.adminToken, tokens, { waitMs: 8_000 });
    leaks = report.leaked;
    if (leaks > 0) settings.log(`session leaks: ${JSON.stringify(report)}`);
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
  } finally {
    for (const c of clients) c.stop();
    await Promise.race([Promise.all(runs), sleep(5_000)]);
  }
  const leftPids = await stack.close();
  // Sockets of ours still open once everything stopped (allow a moment for closes to land).
  let leftSockets = activeTcpHandles() - baselineSockets;
  for (let i = 0; i < 20 && leftSockets > 0; i++) {
    await sleep(100);
    leftSockets = activeTcpHandles() - baselineSockets;
  }
  const stats = clients.map((c) => c.stats).reduce(mergeStats, emptyStats());
  const processLeaks = leftPids.length + Math.max(0, leftSockets);
  if (processLeaks > 0) settings.log(`process leaks: pids ${leftPids.join(",")} sockets ${leftSockets}`);
  const passed =
    error === undefined &&
    stats.lost === 0 &&
    stats.duplicated === 0 &&
    stats.hung === 0 &&
    misrouted === 0 &&
    leaks === 0 &&
    processLeaks === 0 &&
    expectations.every((e) => e.ok);
  return {
    scenario: scenario.name,
    clients: clients.length,
    stats,
    misroutedCr: misrouted,
    sessionLeaks: leaks,
    processLeaks,
    expectations,
    seconds: (Date.now() - started) / 1000,
    passed,
    ...(error === undefined ? {} : { error }),
  };
}

export function mergeStats(a: ClientStats, b: ClientStats): ClientStats {
  const toldBy = { ...a.toldBy };
  for (const [k, v] of Object.entries(b.toldBy)) toldBy[k] = (toldBy[k] ?? 0) + v;
  return {
    sessions: a.sessions + b.sessions,
    events: a.events + b.events,
    lost: a.lost + b.lost,
    duplicated: a.duplicated + b.duplicated,
    misrouted: a.misrouted + b.misrouted,
    resumed: a.resumed + b.resumed,
    told: a.told + b.told,
    toldBy,
    hung: a.hung + b.hung,
    createFailures: a.createFailures + b.createFailures,
    controlRequests: a.controlRequests + b.controlRequests,
    errors: [...a.errors, ...b.errors].slice(0, 20),
  };
}

/**
 * The origin with the most clients right now: the victim of a one-origin fault, so the
 * fault always hits someone (placement spreads a dozen sessions unevenly).
 */
export function busiestOrigin(ctx: ScenarioContext): ChaosOrigin {
  const count = (id: string) => ctx.clients.filter((c) => c.origin === id).length;
  const sorted = [...ctx.stack.origins].sort((a, b) => count(b.id) - count(a.id));
  const first = sorted[0];
  if (first === undefined) throw new Error("no origins");
  return first;
}

/** A snapshot of one client's counters, to compare before and after a fault. */
export function snapshot(stats: ClientStats): { told: number; resumed: number; hung: number } {
  return { told: stats.told, resumed: stats.resumed, hung: stats.hung };
}

function activeTcpHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap" || r === "TCPServerWrap").length;
}

export async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}
