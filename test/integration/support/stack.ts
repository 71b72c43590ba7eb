/**
 * Shared helpers for integration tests: a local stack on free ports, SSE and WebSocket
 * readers with bounded waits, and access to the origins' request logs.
 */
import { WebSocket } from "ws";
import { startStack, type RunningStack, type StackOptions } from "../../infra/local/stack.ts";

export async function testStack(options: StackOptions = {}): Promise<RunningStack> {
  return startStack({ port: 0, originBasePort: 0, prebuilt: true, ...options });
}

/** Rejects after `ms` with a message that says what was awaited. */
export function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Reads SSE events (their `data:` JSON) from a streaming response, one at a time. */
export class SseReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #buffer = "";

  constructor(response: Response) {
    if (response.body === null) throw new Error("response has no body");
    this.#reader = response.body.getReader();
  }

  /** The next event's data, parsed; comments (keep-alives) are skipped. */
  async next(ms = 10_000): Promise<Record<string, unknown>> {
    return within(ms, "the next SSE event", this.#next());
  }

  async #next(): Promise<Record<string, unknown>> {
    for (;;) {
      const end = this.#buffer.indexOf("\n\n");
      if (end >= 0) {
        const block = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        const data = block
          .split("\n")
          .filter((l) => l.startsWith("data:"))
          .map((l) => l.slice(5).trim())
          .join("\n");
        if (data !== "") return JSON.parse(data) as Record<string, unknown>;
        continue;
      }
      const { value, done } = await this.#reader.read();
      if (done) throw new Error("stream ended");
      this.#buffer += this.#decoder.decode(value, { stream: true });
    }
  }

  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }
}

/** A WebSocket client with a queue of received messages and bounded waits. */
export class WsClient {
  readonly ws: WebSocket;
  readonly upgradeHeaders: Promise<Record<string, string | string[] | undefined>>;
  readonly #queue: Array<{ data: Buffer; binary: boolean }> = [];
  readonly #waiters: Array<() => void> = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(url: string, headers: Record<string, string> = {}, protocols?: string[]) {
    this.ws = new WebSocket(url, protocols, { headers });
    this.upgradeHeaders = new Promise((resolve) => this.ws.once("upgrade", (res) => resolve(res.headers)));
    this.ws.on("message", (data: Buffer, binary: boolean) => {
      this.#queue.push({ data, binary });
      this.#waiters.shift()?.();
    });
    this.closed = new Promise((resolve) => this.ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  opened(ms = 10_000): Promise<void> {
    return within(
      ms,
      "the WebSocket to open",
      new Promise<void>((resolve, reject) => {
        this.ws.once("open", () => resolve());
        this.ws.once("error", reject);
        this.ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      }),
    );
  }

  async message(ms = 10_000): Promise<{ data: Buffer; binary: boolean }> {
    if (this.#queue.length === 0) {
      await within(ms, "a WebSocket message", new Promise<void>((resolve) => this.#waiters.push(resolve)));
    }
    const next = this.#queue.shift();
    if (next === undefined) throw new Error("no message");
    return next;
  }

  async json(ms = 10_000): Promise<Record<string, unknown>> {
    const m = await this.message(ms);
    return JSON.parse(m.data.toString()) as Record<string, unknown>;
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close(1000, "done");
    await within(5_000, "the WebSocket to close", this.closed).catch(() => this.ws.terminate());
  }
}

export interface LoggedRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly client: string;
  readonly via: string;
  readonly websocket?: boolean;
}

/** What reached each origin (their /_debug/requests rings). */
export async function originRequests(stack: RunningStack): Promise<Map<string, LoggedRequest[]>> {
  const out = new Map<string, LoggedRequest[]>();
  for (const o of stack.origins) {
    const res = await fetch(`${o.url}/_debug/requests`);
    out.set(o.id, (await res.json()) as LoggedRequest[]);
  }
  return out;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function inBatches<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      const item = items[i] as T;
      results[i] = await fn(item, i);
    }
  });
  await Promise.all(workers);
  return results;
}
