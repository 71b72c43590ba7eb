/**
 * Slow consumers: what a client that stops reading costs the edge.
 *
 * HTTP stream: clients open a stream through the edge (S → session object → flood
 * origin) and stop reading. The relay holds no queue of its own, so the origin's writes
 * must stall once the kernel and runtime buffers on the way are full: we measure how many
 * bytes each origin got to write while its client read nothing (= what the whole path
 * holds), check that it stopped growing, and sample workerd's RSS. Then the clients read
 * again and the origin must write again.
 *
 * WebSocket: send() never blocks, so a client that reads nothing would let the origin's
 * messages pile up inside workerd; the relay's queue budget (relay/queue-budget.ts, issue
 * 16 F5) ends such a relay with 1013 once the pool's `webSocketQueueBytes` wait for the
 * client. We measure what the origin got to send (it sends while its own buffer is small,
 * up to a fixed cap), workerd's RSS, and how the client's WebSocket ended once it reads again.
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage } from "node:http";
import { WebSocket } from "ws";
import { startStack } from "../infra/local/stack.ts";
import { startFloodOrigin } from "./faults/flood-origin.ts";
import { sleep } from "./lib/http.ts";
import { alive, rssMiB, workerdPids } from "./lib/processes.ts";
import { table } from "./report.ts";

const MiB = 1024 * 1024;

export interface SlowConsumerResult {
  readonly pauseSeconds: number;
  readonly http: {
    readonly streams: number;
    /** Per stream: bytes the origin wrote while its client read nothing (max / mean). */
    readonly heldMaxMiB: number;
    readonly heldMeanMiB: number;
    /** The same, for one stream straight to the origin (no edge): the kernel buffers' share. */
    readonly directHeldMiB: number;
    /** Growth of the origin's writes over the last second of the pause (all streams). */
    readonly lastSecondGrowthMiB: number;
    /** What an edge that read ahead without limit would have let the origin write (cap). */
    readonly capMiB: number;
    readonly workerdRssBeforeMiB: number;
    readonly workerdRssPeakMiB: number;
    readonly resumedWriting: boolean;
  };
  readonly ws: {
    readonly sockets: number;
    /** All sockets together: what the origin got to send while its clients read nothing. */
    readonly sentWhilePausedMiB: number;
    /** How each client's WebSocket ended once it read again (1013: the queue budget). */
    readonly closeCodes: readonly number[];
    readonly capMiB: number;
    readonly workerdRssBeforeMiB: number;
    readonly workerdRssPeakMiB: number;
    readonly workerdRssAfterCloseMiB: number;
    readonly growthMiBPerSecond: number;
  };
  readonly passed: boolean;
  readonly failures: readonly string[];
}

export async function runSlowConsumer(options: { quick: boolean; log: (line: string) => void }): Promise<SlowConsumerResult> {
  const pauseMs = options.quick ? 3_000 : 8_000;
  const streams = options.quick ? 3 : 10;
  const sockets = options.quick ? 1 : 2;
  const httpCap = 512 * MiB;
  const wsCap = (options.quick ? 64 : 192) * MiB;
  const origin = await startFloodOrigin({ httpCapBytes: httpCap, wsCapBytes: wsCap });
  // GET /flood opens a session (the pool says so), so each stream runs through its session object.
  const poolSettings = { sessionStart: { requests: [{ methods: ["GET"], path: "/flood" }] } };
  const stack = await startStack({ port: 0, prebuilt: true, origins: [{ id: "flood", url: origin.url }], poolSettings, log: options.log }).catch(async (err: unknown) => {
    await origin.close();
    throw err;
  });
  const pid = workerdPids()[0];
  const rss = (): number => (pid === undefined ? Number.NaN : (rssMiB(pid) ?? Number.NaN));
  const failures: string[] = [];
  try {
    // ---- HTTP streams -------------------------------------------------------------
    // One stream straight to the origin first (index 0): what the kernel's socket buffers
    // alone hold, the baseline the edge's figure is compared with.
    const direct = await openPausedStream(`${origin.url}/flood`);
    const opened = await Promise.all(Array.from({ length: streams }, () => openPausedStream(`${stack.edgeUrl}/flood`)));
    const rssBefore = rss();
    let rssPeak = rssBefore;
    const start = origin.httpWritten.slice();
    let oneSecondAgo = total(origin.httpWritten);
    for (let t = 0; t < pauseMs; t += 250) {
      await sleep(250);
      rssPeak = Math.max(rssPeak, rss());
      if (t === pauseMs - 1_250) oneSecondAgo = total(origin.httpWritten);
    }
    const directHeld = (origin.httpWritten[0] ?? 0) - direct.received;
    const held = origin.httpWritten.slice(1).map((w, i) => w - (opened[i]?.received ?? 0));
    const lastSecondGrowth = total(origin.httpWritten) - oneSecondAgo;
    const beforeResume = total(origin.httpWritten);
    for (const s of [direct, ...opened]) s.resume();
    await waitFor(() => total(origin.httpWritten) > beforeResume + 4 * MiB, 10_000);
    const resumedWriting = total(origin.httpWritten) > beforeResume;
    for (const s of [direct, ...opened]) s.close();
    options.log(`http written per stream at pause start: ${start.join(",")}`);

    const heldMax = Math.max(...held) / MiB;
    if (!(heldMax < httpCap / MiB / 4)) failures.push(`an HTTP stream's origin wrote ${heldMax.toFixed(1)} MiB to a client that read nothing`);
    if (!(lastSecondGrowth < MiB)) failures.push(`origins still wrote ${(lastSecondGrowth / MiB).toFixed(1)} MiB in the pause's last second`);
    if (!resumedWriting) failures.push("the origins did not write again once the clients read again");

    // ---- WebSockets -----------------------------------------------------------------
    await sleep(500);
    const wsBefore = rss();
    const sent0 = total(origin.wsSent);
    const clients = await Promise.all(Array.from({ length: sockets }, () => openPausedWebSocket(`${stack.edgeUrl.replace(/^http/, "ws")}/wsflood`)));
    let wsPeak = wsBefore;
    const wsStart = Date.now();
    for (let t = 0; t < pauseMs; t += 250) {
      await sleep(250);
      wsPeak = Math.max(wsPeak, rss());
      if (total(origin.wsSent) >= sockets * wsCap) break;
    }
    const wsSeconds = (Date.now() - wsStart) / 1000;
    const sentWhilePaused = total(origin.wsSent) - sent0;
    // Reading again, each client finds what was queued for it, then how its relay ended.
    const closeCodes = await Promise.all(clients.map((c) => closeCodeOf(c, 10_000)));
    for (const c of clients) c.terminate();
    await sleep(2_000);
    const wsAfter = rss();
    const sentMax = Math.max(...origin.wsSent.slice(-sockets)) / MiB;
    if (!(sentMax < wsCap / MiB / 4)) failures.push(`a WebSocket's origin sent ${sentMax.toFixed(1)} MiB to a client that read nothing`);
    if (closeCodes.some((code) => code !== 1013)) failures.push(`WebSockets of clients that read nothing ended with ${closeCodes.join(", ")}, not 1013`);

    return {
      pauseSeconds: pauseMs / 1000,
      http: {
        streams,
        heldMaxMiB: heldMax,
        heldMeanMiB: total(held) / held.length / MiB,
        directHeldMiB: directHeld / MiB,
        lastSecondGrowthMiB: lastSecondGrowth / MiB,
        capMiB: httpCap / MiB,
        workerdRssBeforeMiB: rssBefore,
        workerdRssPeakMiB: rssPeak,
        resumedWriting,
      },
      ws: {
        sockets,
        sentWhilePausedMiB: sentWhilePaused / MiB,
        closeCodes,
        capMiB: wsCap / MiB,
        workerdRssBeforeMiB: wsBefore,
        workerdRssPeakMiB: wsPeak,
        workerdRssAfterCloseMiB: wsAfter,
        growthMiBPerSecond: (wsPeak - wsBefore) / wsSeconds,
      },
      passed: failures.length === 0,
      failures,
    };
  } finally {
    await stack.close();
    await origin.close();
    if (pid !== undefined && alive(pid)) options.log(`workerd ${pid} still alive after close`);
  }
}

export function slowConsumerReport(r: SlowConsumerResult): string {
  const f = (n: number) => n.toFixed(1);
  return [
    `slow consumer (clients read nothing for ${r.pauseSeconds} s):`,
    table(
      ["transport", "conns", "origin wrote while paused (MiB)", "still growing at end (MiB/s)", "workerd RSS before → peak (MiB)", "result"],
      [
        [
          "HTTP stream",
          r.http.streams,
          `max ${f(r.http.heldMaxMiB)}, mean ${f(r.http.heldMeanMiB)}; direct ${f(r.http.directHeldMiB)} (cap ${r.http.capMiB})`,
          f(r.http.lastSecondGrowthMiB),
          `${f(r.http.workerdRssBeforeMiB)} → ${f(r.http.workerdRssPeakMiB)}`,
          r.passed ? "pushed back" : "FAIL",
        ],
        [
          "WebSocket",
          r.ws.sockets,
          `${f(r.ws.sentWhilePausedMiB)} in all (cap ${r.ws.capMiB} each)`,
          `workerd +${f(r.ws.growthMiBPerSecond)}`,
          `${f(r.ws.workerdRssBeforeMiB)} → ${f(r.ws.workerdRssPeakMiB)} (after close ${f(r.ws.workerdRssAfterCloseMiB)})`,
          r.passed ? `relay ended ${r.ws.closeCodes.join(", ")} (queue budget)` : "FAIL",
        ],
      ],
    ),
    ...r.failures.map((x) => `FAIL ${x}`),
  ].join("\n");
}

function total(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

async function waitFor(check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await sleep(50);
}

interface PausedStream {
  /** Bytes read before the pause. */
  readonly received: number;
  resume(): void;
  close(): void;
}

/** Opens a stream, reads its first bytes, then reads nothing until resume(). */
function openPausedStream(url: string): Promise<PausedStream> {
  return new Promise((resolve, reject) => {
    let req: ClientRequest | undefined = undefined;
    const timer = setTimeout(() => {
      req?.destroy();
      reject(new Error(`no first bytes from ${url}`));
    }, 10_000);
    req = httpRequest(url, { agent: false }, (res: IncomingMessage) => {
      let received = 0;
      let first = true;
      res.on("data", function firstBytes(chunk: Buffer) {
        received += chunk.length;
        if (!first) return;
        first = false;
        res.pause();
        clearTimeout(timer);
        resolve({
          received,
          resume: () => res.resume(),
          close: () => req?.destroy(),
        });
      });
      res.on("error", () => {});
    });
    req.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}

/** Resumes a paused WebSocket and waits (bounded) for its close code; 0 if it did not close. */
function closeCodeOf(ws: WebSocket, ms: number): Promise<number> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(0), ms);
    ws.once("close", (code: number) => {
      clearTimeout(timer);
      resolve(code);
    });
    ws.resume();
  });
}

/** Opens a WebSocket, takes its first message, then reads nothing at all (socket paused). */
function openPausedWebSocket(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no first message from ${url}`));
    }, 10_000);
    ws.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    ws.once("message", () => {
      clearTimeout(timer);
      ws.pause();
      resolve(ws);
    });
  });
}
