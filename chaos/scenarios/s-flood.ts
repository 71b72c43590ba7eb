/**
 * S flood from one client network (issue 14): one loopback address (127.66.0.1, network
 * 127.66.0.0/24) sends session-creating requests as fast as it can while 200 clients from
 * 50 other /24s (127.100.0.x – 127.149.0.x) open sessions at a normal pace, and the usual
 * chaos clients (127.0.0.1) stream on. The per-network S budget must hold the flood to
 * its budget — counted where it costs: S requests from the flood's address that reached an
 * origin, i.e. session objects created for it (every object makes one origin request) —
 * answer it 429 + Retry-After (and TLCP's CONERR,10 for a TLCP create_session), and leave
 * the others their sessions: ≥ 99 % of the 200 within their first two tries. What the
 * edge holds must stay bounded: its isolate's JavaScript heap after a full GC (workerd's
 * inspector), before the flood and after it. workerd's RSS is sampled and reported, not
 * bounded: locally it keeps ≈ 20 KiB of native memory per HTTP request answered, whatever
 * the Worker (tools/profile/request-memory.ts, docs/resilience.md), so it counts the flood's requests, not the edge's state.
 */
import { Worker } from "node:worker_threads";
import type { FloodCounts, FloodOrders } from "../faults/s-flood-worker.ts";
import { request, sleep } from "../lib/http.ts";
import { rssMiB } from "../lib/processes.ts";
import type { Expectation, Scenario, ScenarioContext } from "../scenario.ts";

const FLOOD_ADDRESS = "127.66.0.1";
/**
 * The budget in the scenario's pool, S requests per network per 10 s window: every network
 * has it, the chaos clients' (all from 127.0.0.1: 12 quick, 60 full) too, who must all get
 * their sessions within the suite's wait — so it grows with them; the flood outruns it.
 */
const budgetFor = (quick: boolean): number => (quick ? 20 : 40);
const WINDOW_MS = 10_000;
/** Concurrent S requests the flood keeps in flight ("as fast as it can", from one host). */
const FLOOD_CONCURRENCY = 32;
/** A slow answer is still a session: the edge shares two cores with the flood and the streams. */
const REQUEST_TIMEOUT_MS = 30_000;
/**
 * The edge isolate's heap may grow by at most this much over the flood: it holds nothing
 * per refused S; what it holds is the session objects awake at the end (≈ 400 sessions are
 * created in a full run) and the chaos clients' streams.
 */
const HEAP_BOUND_MIB = 16;

interface FloodStats extends FloodCounts {
  tlcpConerr10: number;
}

function legitAddress(i: number): string {
  return `127.${100 + (i % 50)}.0.${1 + Math.floor(i / 50)}`;
}

/** The flood, in its own thread (faults/s-flood-worker.ts says why). */
function flood(edgeUrl: string, until: number): Promise<FloodCounts> {
  const orders: FloodOrders = { edgeUrl, address: FLOOD_ADDRESS, until, concurrency: FLOOD_CONCURRENCY, timeoutMs: REQUEST_TIMEOUT_MS };
  const worker = new Worker(new URL("../faults/s-flood-worker.ts", import.meta.url), { workerData: orders });
  return new Promise((resolve, reject) => {
    worker.once("message", (counts: FloodCounts) => {
      resolve(counts);
      void worker.terminate();
    });
    worker.once("error", reject);
  });
}

/** TLCP create_session from the flooding network, mid-flood: refused in TLCP's words. */
async function tlcpProbe(edgeUrl: string, stats: { tlcpConerr10: number }): Promise<void> {
  for (let i = 0; i < 5 && stats.tlcpConerr10 === 0; i++) {
    const answer = await request(
      `${edgeUrl}/lightstreamer/create_session.txt?LS_protocol=TLCP-2.5.0`,
      { method: "POST", localAddress: FLOOD_ADDRESS, headers: { "content-type": "text/plain" }, body: "LS_polling=true&LS_polling_millis=0&LS_idle_millis=0&LS_adapter_set=DEMO&LS_cid=flood" },
      REQUEST_TIMEOUT_MS,
    );
    if (answer.ok && answer.status === 200 && answer.body.startsWith("CONERR,10,")) stats.tlcpConerr10++;
    else await sleep(200);
  }
}

/**
 * One well-behaved client: up to two tries (the second after the answer's Retry-After, at
 * most 2 s). Returns the try that got a session, or why the last one failed.
 */
async function legitClient(edgeUrl: string, address: string): Promise<number | string> {
  let why = "";
  for (let attempt = 1; attempt <= 2; attempt++) {
    const answer = await request(`${edgeUrl}/session`, { method: "POST", localAddress: address }, REQUEST_TIMEOUT_MS);
    if (answer.ok && answer.status === 201) return attempt;
    why = answer.ok ? `${answer.status} ${answer.body.slice(0, 80)}` : answer.error;
    const wait = answer.ok ? Number(answer.headers["retry-after"] ?? "1") : 1;
    await sleep(Math.min(2, Number.isFinite(wait) ? wait : 1) * 1000);
  }
  return why;
}

/** Requests from the flood's address that reached an origin (it sends only S): the objects created for it. */
async function floodObjects(ctx: ScenarioContext): Promise<number> {
  let n = 0;
  for (const o of ctx.stack.origins) {
    // On the origin's admin listener: the session listener no longer serves it (issue 16 F2).
    const res = await fetch(`${o.adminUrl}/_debug/requests`, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`${o.id} ${o.adminUrl}/_debug/requests answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
    const entries = (await res.json()) as Array<{ method: string; path: string; client?: string }>;
    n += entries.filter((e) => e.client === FLOOD_ADDRESS).length;
  }
  return n;
}

export const sFlood: Scenario = {
  name: "s-flood",
  description: `one network floods S requests; 200 clients from others open sessions meanwhile`,
  // No origin is at fault here: health checks get the slack a CPU-starved edge needs (the
  // chaos pool's 400 ms timeout marked every origin down under the flood's load, and the
  // clients got 503 no_origin_available — a health-check artefact, not admission).
  poolSettings: (quick) => ({
    networkBudget: { sessions: budgetFor(quick) },
    health: { intervalMs: 1_000, timeoutMs: 900, rise: 1, fall: 3 },
  }),
  inspect: true,
  async inject(ctx) {
    const floodMs = ctx.settings.quick ? 5_000 : 20_000;
    const legitCount = ctx.settings.quick ? 50 : 200;
    const heapBefore = await ctx.stack.heapMiB();
    const pids = [...ctx.stack.workerdPids];
    const rss = () => pids.reduce((sum, pid) => sum + (rssMiB(pid) ?? 0), 0);
    const rssBefore = rss();
    let rssMax = rssBefore;
    const sampler = setInterval(() => {
      rssMax = Math.max(rssMax, rss());
    }, 250);

    const probe = { tlcpConerr10: 0 };
    const started = Date.now();
    const until = started + floodMs;
    const flooding = flood(ctx.stack.edgeUrl, until);
    // The clients arrive at a steady pace over the flood, each from its own address.
    const spacing = floodMs / legitCount;
    const legit = Promise.all(
      Array.from({ length: legitCount }, async (_, i) => {
        await sleep(i * spacing);
        return legitClient(ctx.stack.edgeUrl, legitAddress(i));
      }),
    );
    await sleep(floodMs / 2);
    await tlcpProbe(ctx.stack.edgeUrl, probe);
    const [counts, tries] = await Promise.all([flooding, legit]);
    const stats: FloodStats = { ...counts, ...probe };
    const ended = Date.now();
    clearInterval(sampler);
    const rssAfter = rss();
    const heapAfter = await ctx.stack.heapMiB();
    const heap = (mib: number | undefined) => (mib === undefined ? "?" : mib.toFixed(1));

    const objects = await floodObjects(ctx);
    // Budget windows are aligned to the clock: the flood touched every one from start to end.
    const windows = Math.floor(ended / WINDOW_MS) - Math.floor(started / WINDOW_MS) + 1;
    // Each request spends floor(units / budget) units, so a window admits up to budget + 1.
    const allowed = windows * (budgetFor(ctx.settings.quick) + 1);
    const served = tries.filter((t) => typeof t === "number").length;
    const firstTry = tries.filter((t) => t === 1).length;
    const failures = new Map<string, number>();
    for (const t of tries) if (typeof t === "string") failures.set(t, (failures.get(t) ?? 0) + 1);
    ctx.settings.log(
      `s-flood: flood sent ${stats.sent} (${Math.round(stats.sent / (floodMs / 1000))}/s), created ${stats.created}, 429 ${stats.refused429}, other ${stats.other}; ` +
        `objects for it ${objects} (allowed ${allowed} over ${windows} windows); clients ${served}/${legitCount} (${firstTry} first try); ` +
        `edge isolate heap ${heap(heapBefore)} → ${heap(heapAfter)} MiB; workerd RSS ${rssBefore.toFixed(0)} → max ${rssMax.toFixed(0)} → ${rssAfter.toFixed(0)} MiB` +
        (failures.size === 0 ? "" : `; clients' failures: ${JSON.stringify([...failures])}`),
    );
    return (): Expectation[] => [
      { what: "≥ 99 % of the other clients got a session within two tries", ok: served >= Math.ceil(legitCount * 0.99), detail: `${served}/${legitCount}, ${firstTry} on the first` },
      { what: "the flood got 429s with Retry-After", ok: stats.refused429 > 0 && stats.retryAfter === stats.refused429, detail: `${stats.refused429} of ${stats.sent}, ${stats.retryAfter} with Retry-After` },
      { what: "TLCP create_session from the flood network: CONERR,10", ok: stats.tlcpConerr10 > 0, detail: `${stats.tlcpConerr10}` },
      { what: "session objects created for the flood ≤ its budget", ok: objects <= allowed, detail: `${objects} objects, ${stats.created} sessions, budget ${allowed}` },
      {
        what: `the edge isolate's heap bounded (≤ +${HEAP_BOUND_MIB} MiB after a full GC)`,
        ok: heapBefore !== undefined && heapAfter !== undefined && heapAfter - heapBefore <= HEAP_BOUND_MIB,
        detail: `${heap(heapBefore)} → ${heap(heapAfter)} MiB (workerd RSS ${rssBefore.toFixed(0)} → max ${rssMax.toFixed(0)} MiB, not bounded)`,
      },
    ];
  },
};
