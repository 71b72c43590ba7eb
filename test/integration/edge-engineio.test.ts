/**
 * Socket.IO through the edge: three real `socket.io` servers, real `socket.io-client`
 * clients in polling-then-upgrade, polling-only and WebSocket-only modes. Stickiness rides
 * on the Engine.IO sid, which the edge turns into the affinity token — no cookie, no
 * header. The same clients against a plain round-robin proxy fail: the edge is what makes
 * it work.
 */
import { join } from "node:path";
import { io, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../infra/local/edge.ts";
import { startReadyProcess, type OriginProcess } from "../../infra/local/origin-process.ts";
import type { RunningStack } from "../../infra/local/stack.ts";
import { startRoundRobinProxy, type RoundRobinProxy } from "./support/round-robin-proxy.ts";
import { inBatches, testStack } from "./support/stack.ts";
import { withTimeout } from "./support/wait.ts";

const SERVER = join(REPO_ROOT, "test", "integration", "support", "socketio-server.ts");
const CLIENTS_PER_MODE = 30;
const ROUND_TRIPS = 20;

let servers: OriginProcess[] = [];
let stack: RunningStack;

beforeAll(async () => {
  servers = await Promise.all(["s1", "s2", "s3"].map((id) => startReadyProcess(SERVER, id, ["--id", id])));
  stack = await testStack({ origins: servers.map((s) => ({ id: s.id, url: s.url })) });
});
afterAll(async () => {
  await stack?.close();
  await Promise.all(servers.map((s) => s.stop()));
});

type Mode = "polling-then-upgrade" | "polling-only" | "websocket-only";

interface ClientRun {
  readonly origins: Set<string>;
  readonly acks: number;
  readonly errors: string[];
  readonly sid: string;
  readonly transport: string;
}

function connect(url: string, mode: Mode): Socket {
  return io(url, {
    transports: mode === "websocket-only" ? ["websocket"] : mode === "polling-only" ? ["polling"] : ["polling", "websocket"],
    reconnection: false,
    forceNew: true,
    timeout: 10_000,
  });
}

/** One client: connect, `ROUND_TRIPS` emit/ack round trips, disconnect. Never throws. */
async function runClient(url: string, mode: Mode): Promise<ClientRun> {
  const socket = connect(url, mode);
  const errors: string[] = [];
  const origins = new Set<string>();
  let acks = 0;
  socket.on("connect_error", (err) => errors.push(`connect_error: ${err.message}`));
  socket.on("disconnect", (reason) => {
    if (reason !== "io client disconnect") errors.push(`disconnect: ${reason}`);
  });
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        socket.once("connect", () => resolve());
        socket.once("connect_error", reject);
      }),
      15_000,
      "the Socket.IO connection",
    );
    if (mode === "polling-then-upgrade" && socket.io.engine.transport.name !== "websocket") {
      await withTimeout(new Promise((resolve) => socket.io.engine.once("upgrade", resolve)), 15_000, "the upgrade");
    }
    for (let i = 0; i < ROUND_TRIPS; i++) {
      const ack = (await socket.timeout(10_000).emitWithAck("echo", i)) as { data: number; origin: string };
      if (ack.data === i) acks += 1;
      origins.add(ack.origin);
    }
  } catch (err) {
    errors.push(err instanceof Error ? err.message : String(err));
  }
  const result = { origins, acks, errors, sid: socket.io.engine?.id ?? "", transport: socket.io.engine?.transport.name ?? "" };
  socket.disconnect();
  return result;
}

describe("Socket.IO through the edge", () => {
  for (const mode of ["polling-then-upgrade", "polling-only", "websocket-only"] as const) {
    it(`keeps ${CLIENTS_PER_MODE} ${mode} clients on one server each, with no Session ID unknown`, async () => {
      const runs = await inBatches(
        Array.from({ length: CLIENTS_PER_MODE }, (_, i) => i),
        10,
        () => runClient(stack.edgeUrl, mode),
      );
      const errors = runs.flatMap((r) => r.errors);
      expect(errors).toEqual([]);
      for (const run of runs) {
        expect(run.acks).toBe(ROUND_TRIPS);
        expect(run.origins.size).toBe(1);
        // The client's sid is the edge's affinity token, not the server's id.
        expect(run.sid.split(".")).toHaveLength(3);
        expect(run.transport).toBe(mode === "polling-only" ? "polling" : "websocket");
      }
      const used = new Set(runs.flatMap((r) => [...r.origins]));
      expect([...used].sort()).toEqual(["s1", "s2", "s3"]);
    });
  }

  it("answers a forged sid the way Engine.IO does, so clients start over", async () => {
    const res = await fetch(`${stack.edgeUrl}/socket.io/?EIO=4&transport=polling&sid=not.a.token`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ code: 1, message: "Session ID unknown" });
  });
});

describe("the same clients behind a plain round-robin proxy", () => {
  let proxy: RoundRobinProxy;
  beforeAll(async () => {
    proxy = await startRoundRobinProxy(servers.map((s) => s.url));
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it("fail: without stickiness a polling session's requests land on servers that don't know it", async () => {
    // One client at a time, so the rotation deterministically moves each client's second
    // request to another server.
    const runs: ClientRun[] = [];
    for (let i = 0; i < 5; i++) runs.push(await runClient(proxy.url, "polling-only"));
    expect(runs.filter((r) => r.acks === ROUND_TRIPS)).toHaveLength(0);
    expect(runs.every((r) => r.errors.length > 0)).toBe(true);
  });
});
