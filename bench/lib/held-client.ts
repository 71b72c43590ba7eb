/**
 * A long-lived push client for the balance scenarios, through any target: holds one S
 * WebSocket (`/ws?interval_ms=0`), remembers which origin said hello, and when the server
 * ends its session (origin restart, push-edge rebalancing) opens a new one through the
 * same balancer, as real push clients do. It may bind a chosen local address
 * (127.x.y.z: Linux routes all of 127/8 to loopback) to look like a distinct client.
 */
import { EchoSocket } from "./echo-socket.ts";
import { errorMessage, inParallel, sleep } from "./time.ts";
import { wsBase, type Target } from "../targets/target.ts";

export class HeldClient {
  socket: EchoSocket | undefined;
  reconnects = 0;
  #stopping = false;
  readonly #target: Target;
  readonly #base: string | undefined;
  readonly #localAddress: string | undefined;
  readonly #onError: (message: string) => void;

  constructor(target: Target, options: { base?: string; localAddress?: string; onError: (message: string) => void }) {
    this.#target = target;
    this.#base = options.base;
    this.#localAddress = options.localAddress;
    this.#onError = options.onError;
  }

  get origin(): string | undefined {
    return this.socket?.usable === true ? this.socket.origin : undefined;
  }

  /** Opens a session, retrying (bounded) while the balancer refuses or the origin is gone. */
  async connect(timeoutMs: number): Promise<boolean> {
    for (let attempt = 0; attempt < 30 && !this.#stopping; attempt++) {
      try {
        const socket = await EchoSocket.open(`${wsBase(this.#base ?? this.#target.nextBase())}/ws?interval_ms=0`, timeoutMs, {
          headers: this.#target.createHeaders?.() ?? {},
          ...(this.#localAddress === undefined ? {} : { localAddress: this.#localAddress }),
        });
        if (this.#stopping) {
          await socket.close();
          return false;
        }
        this.socket = socket;
        socket.onClose = () => {
          if (this.#stopping) return;
          this.reconnects += 1;
          void this.connect(timeoutMs);
        };
        return true;
      } catch (err) {
        this.#onError(`open: ${errorMessage(err)}`);
        await sleep(100 + attempt * 100);
      }
    }
    return false;
  }

  async close(): Promise<void> {
    this.#stopping = true;
    await this.socket?.close();
  }
}

/** Sessions per origin over clients that currently hold one. */
export function originCounts(clients: readonly HeldClient[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const c of clients) {
    const origin = c.origin;
    if (origin !== undefined) counts.set(origin, (counts.get(origin) ?? 0) + 1);
  }
  return counts;
}

/** max/mean sessions per origin over `originIds` (an origin with none counts as 0). */
export function maxOverMean(counts: ReadonlyMap<string, number>, originIds: readonly string[]): number {
  const values = originIds.map((id) => counts.get(id) ?? 0);
  const total = values.reduce((a, b) => a + b, 0);
  return total === 0 ? Number.NaN : Math.max(...values) / (total / values.length);
}

/**
 * Connects `clients` in `order` (indexes), `parallel` at a time; a client that never gets
 * a session is reported through `onError`, and every 500 tries through `onProgress`.
 */
export async function connectAll(
  clients: readonly HeldClient[],
  order: readonly number[],
  options: { parallel: number; timeoutMs: number; onError: (message: string) => void; onProgress: (tried: number) => void },
): Promise<void> {
  let next = 0;
  let tried = 0;
  await inParallel(options.parallel, async () => {
    while (next < order.length) {
      const c = clients[order[next++] ?? 0];
      if (c !== undefined && !(await c.connect(options.timeoutMs))) options.onError("a client never got a session");
      tried += 1;
      if (tried % 500 === 0) options.onProgress(tried);
    }
  });
}

/** Closes every client, 32 at a time. */
export async function closeAll(clients: readonly HeldClient[]): Promise<void> {
  await inParallel(32, async (w) => {
    for (let i = w; i < clients.length; i += 32) await clients[i]?.close();
  });
}
