/**
 * What a WebSocket client that never reads can make the edge hold (issue 16 F5): through
 * the edge, a client opens a session's WebSocket to the reference origin (which echoes
 * every message), stops reading its socket, and sends N incompressible 1 MiB messages.
 * The origin echoes them toward a client that takes nothing; whatever the edge queues for
 * it shows in workerd's resident memory. Reported per relay mode and transport: workerd's
 * RSS before, at its peak, once it stopped growing ("held", after a garbage collection of
 * the isolate, so that messages already passed on do not count), and after the client
 * closed (collected again); and how the session's WebSocket ended (its event log).
 * `--read` is the control: the same traffic to a client that reads it all.
 *
 *   node tools/profile/unread-websocket-memory.ts [--messages 200] [--modes edge,object] [--transports fetch,tcp]
 *        [--pace-ms 0] [--read] [--queue-bytes N] [--build .build/edge] [--prebuilt]
 *
 * Each run starts its own workerd, so one run's garbage does not count against the next.
 * `--pace-ms` waits between the client's messages (so the origin's echo keeps up and the
 * queue toward the client fills first); `--queue-bytes` sets the pool's
 * `limits.webSocketQueueBytes`; `--build` with `--prebuilt` runs a bundle built before
 * (e.g. of the code before a change). Random bytes, because workerd holds a message queued
 * for a client that negotiated permessage-deflate compressed.
 */
import { randomFillSync } from "node:crypto";
import { WebSocket } from "ws";
import { DEFAULT_BUILD_DIR, buildEdge } from "../../infra/local/edge.ts";
import { startStack, type RunningStack } from "../../infra/local/stack.ts";
import { connectInspector, freePort } from "../../infra/local/inspector.ts";
import { rssKiB, withNewWorkerd } from "./workerd-process.ts";
import { toolArgs } from "./tool-args.ts";

const values = toolArgs(import.meta.url, {
  messages: { type: "string", default: "200" },
  modes: { type: "string", default: "edge,object" },
  transports: { type: "string", default: "fetch,tcp" },
  "queue-bytes": { type: "string" },
  "pace-ms": { type: "string", default: "0" },
  read: { type: "boolean", default: false },
  build: { type: "string", default: DEFAULT_BUILD_DIR },
  prebuilt: { type: "boolean", default: false },
});
const t0 = Date.now();
const MESSAGES = Number(values.messages);
const PACE_MS = Number(values["pace-ms"]);
const MESSAGE_BYTES = 1024 * 1024;
/** RSS is sampled this often; it has settled once it grew less than SETTLE_KIB over SETTLE_MS. */
const SAMPLE_MS = 200;
const SETTLE_MS = 3_000;
const SETTLE_KIB = 2 * 1024;
/** However long the echo takes, a run stops sampling after this. */
const RUN_MS = 60_000;

if (!values.prebuilt) await buildEdge(values.build);

console.log(
  `client sends ${MESSAGES} × 1 MiB (random bytes)${PACE_MS > 0 ? `, one every ${PACE_MS} ms,` : ""} into the origin's echo and ${values.read ? "reads every echo (control)" : "never reads"}`,
);
console.log("mode    transport  before MiB  peak MiB  held MiB  after close MiB  relay ended");
for (const mode of values.modes.split(",")) {
  for (const transport of values.transports.split(",")) {
    const r = await run(mode, transport);
    console.log(
      `${mode.padEnd(7)} ${transport.padEnd(9)} ${mib(r.before).padStart(10)} ${mib(r.peak).padStart(9)} ${mib(r.held).padStart(9)} ${mib(r.after).padStart(16)}  ${r.ended}`,
    );
  }
}

interface RunResult {
  readonly before: number;
  readonly peak: number;
  readonly held: number;
  readonly after: number;
  readonly ended: string;
}

async function run(mode: string, transport: string): Promise<RunResult> {
  const tcp = transport === "tcp";
  const limits = values["queue-bytes"] === undefined ? {} : { limits: { webSocketQueueBytes: Number(values["queue-bytes"]) } };
  const inspectorPort = await freePort();
  const { value: stack, pid } = await withNewWorkerd(() =>
    startStack({
      inspectorPort,
      port: 0,
      originBasePort: 0,
      prebuilt: true,
      buildDir: values.build,
      originCount: 1,
      originArgs: ["--interval-ms", "0", ...(tcp ? ["--proxy", "require"] : [])],
      ...(tcp ? { originTransport: { transport: "tcp", proxy: { version: 1 } } } : {}),
      poolSettings: { relay: mode, ...limits },
    }),
  );
  const inspector = await connectInspector(inspectorPort);
  /** RSS once the isolate has collected its garbage and the allocator had a moment. */
  const collectedRss = async (): Promise<number> => {
    await inspector.call("HeapProfiler.collectGarbage");
    await inspector.call("HeapProfiler.collectGarbage");
    await sleep(1_000);
    return rssKiB(pid);
  };
  try {
    // Warm up: the first session pays for code and caches every later one shares.
    const warm = await openSession(stack);
    warm.ws.close();
    const before = await collectedRss();
    progress(`${mode}/${transport}: started, workerd RSS ${mib(before)} MiB`);

    const { ws, token } = await openSession(stack);
    if (!values.read) ws.pause();
    const payload = Buffer.alloc(MESSAGE_BYTES);
    for (let i = 0; i < MESSAGES; i++) {
      ws.send(randomFillSync(payload), { binary: true });
      if (PACE_MS > 0) await sleep(PACE_MS);
    }

    let peak = before;
    const samples: number[] = [];
    const started = Date.now();
    while (Date.now() - started < RUN_MS) {
      await sleep(SAMPLE_MS);
      const rss = await rssKiB(pid);
      samples.push(rss);
      peak = Math.max(peak, rss);
      const window = samples.slice(-SETTLE_MS / SAMPLE_MS);
      if (window.length === SETTLE_MS / SAMPLE_MS && Math.max(...window) - Math.min(...window) < SETTLE_KIB && ws.bufferedAmount === 0) break;
    }
    const held = await collectedRss();
    progress(`${mode}/${transport}: held ${mib(held)} MiB (peak ${mib(peak)})`);
    const ended = await howItEnded(stack, token);
    progress(`${mode}/${transport}: ${ended}`);
    ws.terminate();
    await sleep(2_000);
    return { before, peak, held, after: await collectedRss(), ended };
  } finally {
    inspector.close();
    await stack.close();
  }
}

async function openSession(stack: RunningStack): Promise<{ ws: WebSocket; token: string }> {
  const ws = new WebSocket(`${stack.edgeUrl.replace(/^http/, "ws")}/ws?interval_ms=0`, { perMessageDeflate: false });
  // The origin's hello may come in the same read as the 101: listen for both at once.
  const hello = new Promise((resolve) => ws.once("message", resolve));
  const token = await new Promise<string>((resolve, reject) => {
    ws.once("upgrade", (res) => resolve(String(res.headers["x-affinity-token"] ?? "")));
    ws.once("error", reject);
  });
  // The relay is open end to end.
  await hello;
  return { ws, token };
}

/** The session's `websocket_close` event, as the session object recorded it (or that there is none). */
async function howItEnded(stack: RunningStack, token: string): Promise<string> {
  const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as { sk: string };
  const res = await fetch(`${stack.edgeUrl}/_edge/admin/sessions/${encodeURIComponent(payload.sk)}`, {
    headers: { authorization: `Bearer ${stack.adminToken}` },
  });
  const body = (await res.json()) as { events?: Array<{ kind: string; detail: Record<string, unknown> }> };
  const closed = body.events?.find((e) => e.kind === "websocket_close" || e.kind === "leg_closed");
  if (closed === undefined) return "still open";
  const { side, code, reason } = closed.detail;
  return `${String(code)} by ${String(side)}: ${String(reason)}`;
}

/** Progress on stderr, so the table on stdout stays clean. */
function progress(what: string): void {
  process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1)} s] ${what}\n`);
}

function mib(kib: number): string {
  return (kib / 1024).toFixed(0);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
