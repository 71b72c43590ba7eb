/**
 * A loopback TCP proxy placed between the edge and one origin, which can misbehave on
 * command — the faults a real network or a sick origin produces, without touching the
 * origin itself:
 *   pass   forward both ways (the default)
 *   stall  accept new connections and read nothing from anyone; existing connections
 *          freeze too (nothing forwarded either way) until the fault is lifted
 *   slow   forward every chunk after `delayMs`, in order
 *   drop   like pass, but reset a random live connection every `everyMs`
 * It speaks no HTTP: the edge's requests, streams, WebSockets and health checks all pass
 * through as bytes, so every fault hits them all alike.
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";

/** Most bytes held per direction of one connection before the sender is paused. */
const QUEUE_LIMIT = 256 * 1024;

export type Fault = { mode: "pass" } | { mode: "stall" } | { mode: "slow"; delayMs: number } | { mode: "drop"; everyMs: number };

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
}

export interface FaultProxy {
  readonly url: string;
  /** Connections open right now (each is one client socket + one upstream socket). */
  readonly open: number;
  /** Connections this proxy reset on purpose (mode drop). */
  readonly resets: number;
  set(fault: Fault): void;
  close(): Promise<void>;
}

export async function startFaultProxy(targetUrl: string): Promise<FaultProxy> {
  const target = new URL(targetUrl);
  const targetPort = Number(target.port);
  const pairs = new Set<Pair>();
  let fault: Fault = { mode: "pass" };
  let resets = 0;
  let dropTimer: NodeJS.Timeout | undefined;

  /**
   * One direction of a connection. Chunks wait in order until due (now, or + delayMs when
   * slow) and while the fault is a stall; the sender is paused while more than
   * QUEUE_LIMIT waits here or while the receiver's socket is full, so TCP pushes back on
   * it as it would on a real slow link, and this proxy's memory stays bounded.
   */
  function forward(from: Socket, to: Socket): void {
    const queue: Array<{ chunk: Buffer; due: number }> = [];
    let queued = 0;
    let flushing = false;
    let ended = false;
    const flush = (): void => {
      if (flushing) return;
      flushing = true;
      const step = (): void => {
        if (to.destroyed) return;
        if (fault.mode === "stall") {
          // Frozen: read nothing more and send nothing.
          from.pause();
          setTimeout(step, 50);
          return;
        }
        const head = queue[0];
        if (head === undefined) {
          flushing = false;
          if (ended) to.end();
          else from.resume();
          return;
        }
        const wait = head.due - Date.now();
        if (wait > 0) {
          setTimeout(step, wait);
          return;
        }
        queue.shift();
        queued -= head.chunk.length;
        if (queued < QUEUE_LIMIT && !ended) from.resume();
        if (to.write(head.chunk)) step();
        else to.once("drain", step);
      };
      step();
    };
    from.on("data", (chunk: Buffer) => {
      queue.push({ chunk, due: Date.now() + (fault.mode === "slow" ? fault.delayMs : 0) });
      queued += chunk.length;
      if (queued >= QUEUE_LIMIT || fault.mode === "stall") from.pause();
      flush();
    });
    from.on("end", () => {
      ended = true;
      flush();
    });
  }

  const server: Server = createServer(function accept(client) {
    client.setNoDelay(true);
    const upstream = connect(targetPort, target.hostname);
    upstream.setNoDelay(true);
    const pair = { client, upstream };
    pairs.add(pair);
    const teardown = (): void => {
      if (!pairs.delete(pair)) return;
      client.destroy();
      upstream.destroy();
    };
    client.on("error", teardown);
    upstream.on("error", teardown);
    client.on("close", teardown);
    upstream.on("close", teardown);
    forward(client, upstream);
    forward(upstream, client);
  });

  function scheduleDrops(): void {
    clearInterval(dropTimer);
    dropTimer = undefined;
    if (fault.mode !== "drop") return;
    dropTimer = setInterval(function dropOne() {
      const live = [...pairs];
      const victim = live[Math.floor(Math.random() * live.length)];
      if (victim === undefined) return;
      resets += 1;
      // A reset, not a polite close: what a dead middlebox or a crashed peer looks like.
      victim.upstream.resetAndDestroy();
      victim.client.resetAndDestroy();
    }, fault.everyMs);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get open() {
      return pairs.size;
    },
    get resets() {
      return resets;
    },
    set(next) {
      fault = next;
      scheduleDrops();
    },
    async close() {
      clearInterval(dropTimer);
      for (const p of [...pairs]) {
        p.client.destroy();
        p.upstream.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
