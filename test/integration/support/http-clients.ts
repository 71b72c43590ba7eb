// HTTP, SSE and WebSocket clients for integration tests, each handing out one response,
// event or message at a time with a bounded wait.

import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import { WebSocket } from "ws";
import { WAIT_MS, withTimeout } from "./wait.ts";


/** A response body, parsed as JSON when it is JSON, else the text. */
function readBody(res: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (chunk: Buffer) => chunks.push(chunk));
    res.on("error", reject);
    res.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      try {
        resolve(JSON.parse(text) as unknown);
      } catch {
        resolve(text);
      }
    });
  });
}

export type JsonResponse = { status: number; headers: IncomingHttpHeaders; body: unknown };

/** One HTTP request over a fresh connection; the body is parsed as JSON when possible. */
export async function httpJson(
  url: string,
  options: { method?: string; body?: unknown; rawBody?: string | Buffer; headers?: Record<string, string>; localAddress?: string } = {},
): Promise<JsonResponse> {
  const payload = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  return withTimeout(
    new Promise<JsonResponse>((resolve, reject) => {
      const req = httpRequest(
        url,
        {
          method: options.method ?? "GET",
          agent: false,
          ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
          headers: { ...(payload === undefined ? {} : { "Content-Type": "application/json" }), ...options.headers },
        },
        (res) => {
          readBody(res).then((body) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }), reject);
        },
      );
      req.on("error", reject);
      req.end(payload);
    }),
    WAIT_MS,
    `${options.method ?? "GET"} ${url}`,
  );
}

// ---------------------------------------------------------------------------------------
// Queues of events (SSE and WebSocket), one at a time with a bounded wait

class Queue<T> {
  readonly #items: T[] = [];
  readonly #waiters: Array<(item: T) => void> = [];
  #ended: string | undefined;
  readonly #endWaiters: Array<(reason: string) => void> = [];

  push(item: T): void {
    const waiter = this.#waiters.shift();
    if (waiter === undefined) this.#items.push(item);
    else waiter(item);
  }

  end(reason: string): void {
    if (this.#ended !== undefined) return;
    this.#ended = reason;
    for (const waiter of this.#endWaiters.splice(0)) waiter(reason);
  }

  get ended(): string | undefined {
    return this.#ended;
  }

  /** Resolves with the reason once the source ends (after all items were produced). */
  whenEnded(what: string): Promise<string> {
    if (this.#ended !== undefined) return Promise.resolve(this.#ended);
    return withTimeout(new Promise<string>((resolve) => this.#endWaiters.push(resolve)), WAIT_MS, what);
  }

  next(what: string, ms = WAIT_MS): Promise<T> {
    const item = this.#items.shift();
    if (item !== undefined) return Promise.resolve(item);
    if (this.#ended !== undefined) return Promise.reject(new Error(`${what}: source ended (${this.#ended})`));
    return withTimeout(
      new Promise<T>((resolve, reject) => {
        this.#waiters.push(resolve);
        this.#endWaiters.push((reason) => reject(new Error(`${what}: source ended (${reason})`)));
      }),
      ms,
      what,
    );
  }

  pending(): number {
    return this.#items.length;
  }
}

export type SseEvent = { id?: string; event?: string; data: string; comment?: string };

export type SseStream = {
  status: number;
  headers: IncomingHttpHeaders;
  /** The next event; keep-alive comments are queued separately (nextComment). */
  next(what?: string): Promise<SseEvent>;
  nextComment(what?: string): Promise<string>;
  /** Resolves when the server ends the stream. */
  ended(): Promise<string>;
  close(): void;
};

/** Where a test client connects from (a loopback address of its own, say). */
export interface ClientOptions {
  readonly localAddress?: string;
}

export async function openSse(url: string, headers: Record<string, string> = {}, options: ClientOptions = {}): Promise<SseStream> {
  const events = new Queue<SseEvent>();
  const comments = new Queue<string>();
  let closeRequest = (): void => {};
  const opened = new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = httpRequest(url, { agent: false, ...options, headers: { Accept: "text/event-stream", ...headers } }, (res) => {
      if (res.statusCode !== 200) {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        return;
      }
      resolve({ status: 200, headers: res.headers, body: "" });
      let buffer = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffer += chunk;
        let split: number;
        while ((split = buffer.indexOf("\n\n")) !== -1) {
          const block = buffer.slice(0, split);
          buffer = buffer.slice(split + 2);
          const parsed = parseSseBlock(block);
          if (parsed.comment !== undefined && parsed.data === "" && parsed.event === undefined) {
            comments.push(parsed.comment);
          } else {
            events.push(parsed);
          }
        }
      });
      res.on("end", () => {
        events.end("end");
        comments.end("end");
      });
      res.on("close", () => {
        events.end("close");
        comments.end("close");
      });
    });
    closeRequest = () => req.destroy();
    req.on("error", (error) => {
      events.end(`error: ${error.message}`);
      comments.end(`error: ${error.message}`);
      reject(error);
    });
    req.end();
  });
  const head = await withTimeout(opened, WAIT_MS, `SSE response head from ${url}`);
  if (head.status !== 200) throw new Error(`SSE ${url} answered ${head.status}: ${head.body}`);
  return {
    status: head.status,
    headers: head.headers,
    next: (what = "the next SSE event") => events.next(what),
    nextComment: (what = "an SSE comment") => comments.next(what),
    ended: () => events.whenEnded("the SSE stream to end"),
    close: () => closeRequest(),
  };
}

function parseSseBlock(block: string): SseEvent {
  const event: SseEvent = { data: "" };
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) {
      event.comment = line.slice(1).trim();
      continue;
    }
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "id") event.id = value;
    else if (field === "event") event.event = value;
    else if (field === "data") data.push(value);
  }
  event.data = data.join("\n");
  return event;
}

export type WsMessage = { data: Buffer; isBinary: boolean };

export type WsClient = {
  ws: WebSocket;
  upgradeHeaders: IncomingHttpHeaders;
  next(what?: string): Promise<WsMessage>;
  nextJson(what?: string): Promise<Record<string, unknown>>;
  closed(): Promise<{ code: number; reason: string }>;
};

export async function openWebSocket(url: string, headers: Record<string, string> = {}, options: ClientOptions = {}): Promise<WsClient> {
  const ws = new WebSocket(url, { perMessageDeflate: false, headers, ...options });
  const messages = new Queue<WsMessage>();
  let upgradeHeaders: IncomingHttpHeaders = {};
  ws.on("upgrade", (res) => {
    upgradeHeaders = res.headers;
  });
  ws.on("message", (data, isBinary) => {
    const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    messages.push({ data: buffer, isBinary });
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on("close", (code, reason) => {
      messages.end(`close ${code}`);
      resolve({ code, reason: reason.toString() });
    });
  });
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
      ws.once("unexpected-response", (_req, res) => reject(new Error(`WebSocket ${url} answered ${res.statusCode}`)));
    }),
    WAIT_MS,
    `WebSocket open ${url}`,
  );
  return {
    ws,
    upgradeHeaders,
    next: (what = "the next WebSocket message") => messages.next(what),
    async nextJson(what = "the next WebSocket JSON message") {
      const message = await messages.next(what);
      if (message.isBinary) throw new Error(`${what}: got a binary frame`);
      return JSON.parse(message.data.toString("utf8")) as Record<string, unknown>;
    },
    closed: () => withTimeout(closed, WAIT_MS, `WebSocket ${url} to close`),
  };
}

/** Tries a WebSocket upgrade expected to fail; returns the HTTP status and headers. */
export async function rejectedUpgrade(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: unknown }> {
  const ws = new WebSocket(url, { perMessageDeflate: false, headers });
  ws.on("error", () => {});
  return withTimeout(
    new Promise((resolve, reject) => {
      ws.once("open", () => {
        ws.terminate();
        reject(new Error(`WebSocket ${url} unexpectedly opened`));
      });
      ws.once("unexpected-response", (_req, res) => {
        readBody(res).then((body) => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
          ws.terminate();
        }, reject);
      });
    }),
    WAIT_MS,
    `rejected upgrade ${url}`,
  );
}
