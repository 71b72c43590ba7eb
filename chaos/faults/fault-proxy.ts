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

  /** Chunks waiting for a delay (slow) or for the stall to lift, per direction, in order. */
  function forward(from: Socket, to: Socket): void {
    const queue: Buffer[] = [];
    let flushing = false;
    const flush = (): void => {
      if (flushing) return;
      flushing = true;
      const step = (): void => {
        if (fault.mode === "stall") {
          // Frozen: read nothing more (TCP pushes back on the sender) and send nothing.
          from.pause();
          setTimeout(step, 50);
          return;
        }
        const chunk = queue.shift();
        if (chunk === undefined) {
          flushing = false;
          from.resume();
          return;
        }
        const send = (): void => {
          if (!to.destroyed) to.write(chunk);
          step();
        };
        if (fault.mode === "slow") setTimeout(send, fault.delayMs);
        else send();
      };
      step();
    };
    from.on("data", (chunk: Buffer) => {
      queue.push(chunk);
      // One chunk in hand at a time: the sender waits on TCP, not on our memory.
      from.pause();
      flush();
    });
    from.on("end", () => {
      const endWhenEmpty = (): void => {
        if (queue.length === 0 && !flushing) to.end();
        else setTimeout(endWhenEmpty, 20);
      };
      endWhenEmpty();
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
