// Test helpers for the reference origin: bounded waits, raw TCP exchanges, PROXY header
// builders (written independently of the origin's parser), and SSE / WebSocket readers
// that hand out one event at a time.

import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { connect, isIPv4 } from "node:net";
import { WebSocket } from "ws";

export const WAIT_MS = 10_000;

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------
// Raw TCP

export type RawExchange = {
  /** Everything the server sent before closing (or before the wait ran out). */
  response: string;
  /** True when the server closed the connection. */
  closed: boolean;
};

/**
 * Connects, writes `chunks` one by one (pausing `gapMs` between them, so they arrive as
 * separate TCP segments), then collects bytes until the server closes the connection.
 * Requests should say `Connection: close` so a served request also ends in a close.
 */
export async function rawExchange(
  port: number,
  chunks: ReadonlyArray<string | Uint8Array>,
  options: { gapMs?: number; host?: string; waitMs?: number } = {},
): Promise<RawExchange> {
  const socket = connect({ port, host: options.host ?? "127.0.0.1", noDelay: true });
  const received: Buffer[] = [];
  let closed = false;
  const done = new Promise<void>((resolve) => {
    socket.on("data", (chunk: Buffer) => received.push(chunk));
    socket.on("error", () => {}); // a reset is one way of being closed
    socket.on("close", () => {
      closed = true;
      resolve();
    });
  });
  await withTimeout(new Promise<void>((resolve) => socket.once("connect", () => resolve())), WAIT_MS, "connect");
  for (const [index, chunk] of chunks.entries()) {
    if (index > 0 && (options.gapMs ?? 0) > 0) await sleep(options.gapMs ?? 0);
    if (socket.destroyed) break;
    socket.write(chunk);
  }
  await withTimeout(done, options.waitMs ?? WAIT_MS, "the server to close the connection").catch(() => {});
  socket.destroy();
  return { response: Buffer.concat(received).toString("latin1"), closed };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The JSON body of a raw HTTP/1.1 response with Content-Length. */
export function rawJsonBody(response: string): unknown {
  const split = response.indexOf("\r\n\r\n");
  if (split === -1) throw new Error(`no HTTP response in ${JSON.stringify(response.slice(0, 200))}`);
  return JSON.parse(response.slice(split + 4)) as unknown;
}

export function rawStatus(response: string): number | undefined {
  const match = /^HTTP\/1\.1 (\d{3}) /.exec(response);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

export function healthRequest(extraHeaders = ""): string {
  return `GET /health HTTP/1.1\r\nHost: origin.test\r\n${extraHeaders}Connection: close\r\n\r\n`;
}

// ---------------------------------------------------------------------------------------
// PROXY protocol headers, built by hand from proxy-protocol.txt

export function proxyV1(protocol: "TCP4" | "TCP6", src: string, dst: string, sport: number, dport: number): string {
  return `PROXY ${protocol} ${src} ${dst} ${sport} ${dport}\r\n`;
}

export const V2_SIGNATURE = Buffer.from("0d0a0d0a000d0a515549540a", "hex");

export type V2Options = {
  command?: "local" | "proxy";
  src?: string;
  dst?: string;
  sport?: number;
  dport?: number;
  tlvs?: ReadonlyArray<{ type: number; value: Uint8Array }>;
  /** Overrides the family/protocol byte (0x11 TCP4, 0x21 TCP6, 0x00 UNSPEC). */
  family?: number;
};

export function proxyV2(options: V2Options = {}): Buffer {
  const command = options.command === "local" ? 0x20 : 0x21;
  const src = options.src ?? "192.0.2.1";
  const dst = options.dst ?? "192.0.2.2";
  const v4 = isIPv4(src);
  const family = options.family ?? (v4 ? 0x11 : 0x21);
  let addresses: Buffer;
  if (family === 0x00) {
    addresses = Buffer.alloc(0);
  } else {
    const ports = Buffer.alloc(4);
    ports.writeUInt16BE(options.sport ?? 40000, 0);
    ports.writeUInt16BE(options.dport ?? 443, 2);
    addresses = Buffer.concat(v4 ? [ipv4Bytes(src), ipv4Bytes(dst), ports] : [ipv6Bytes(src), ipv6Bytes(dst), ports]);
  }
  const tlvs = (options.tlvs ?? []).map(({ type, value }) => {
    const head = Buffer.alloc(3);
    head.writeUInt8(type, 0);
    head.writeUInt16BE(value.length, 1);
    return Buffer.concat([head, value]);
  });
  const body = Buffer.concat([addresses, ...tlvs]);
  const preamble = Buffer.alloc(4);
  preamble.writeUInt8(command, 0);
  preamble.writeUInt8(family, 1);
  preamble.writeUInt16BE(body.length, 2);
  return Buffer.concat([V2_SIGNATURE, preamble, body]);
}

function ipv4Bytes(address: string): Buffer {
  return Buffer.from(address.split(".").map(Number));
}

/** Expands "2001:db8::1" to 16 bytes (enough for the addresses the tests use). */
function ipv6Bytes(address: string): Buffer {
  const [head = "", tail = ""] = address.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === "" ? [] : tail.split(":");
  const zeros = new Array<string>(8 - headGroups.length - tailGroups.length).fill("0");
  const groups = address.includes("::") ? [...headGroups, ...zeros, ...tailGroups] : headGroups;
  const bytes = Buffer.alloc(16);
  groups.forEach((group, index) => bytes.writeUInt16BE(parseInt(group, 16), index * 2));
  return bytes;
}

// ---------------------------------------------------------------------------------------
// HTTP

export type JsonResponse = { status: number; headers: IncomingHttpHeaders; body: unknown };

/** One HTTP request over a fresh connection; the body is parsed as JSON when possible. */
export async function httpJson(
  url: string,
  options: { method?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<JsonResponse> {
  const payload = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  return withTimeout(
    new Promise<JsonResponse>((resolve, reject) => {
      const req = httpRequest(
        url,
        {
          method: options.method ?? "GET",
          agent: false,
          headers: { ...(payload === undefined ? {} : { "Content-Type": "application/json" }), ...options.headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let body: unknown = text;
            try {
              body = JSON.parse(text) as unknown;
            } catch {
              // not JSON: keep the text
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
          });
          res.on("error", reject);
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

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const events = new Queue<SseEvent>();
  const comments = new Queue<string>();
  let closeRequest = (): void => {};
  const opened = new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = httpRequest(url, { agent: false, headers: { Accept: "text/event-stream", ...headers } }, (res) => {
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

export async function openWebSocket(url: string): Promise<WsClient> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
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
export async function rejectedUpgrade(url: string): Promise<{ status: number; headers: IncomingHttpHeaders; body: unknown }> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  ws.on("error", () => {});
  return withTimeout(
    new Promise((resolve, reject) => {
      ws.once("open", () => {
        ws.terminate();
        reject(new Error(`WebSocket ${url} unexpectedly opened`));
      });
      ws.once("unexpected-response", (_req, res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let body: unknown = text;
          try {
            body = JSON.parse(text) as unknown;
          } catch {
            // keep text
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
          ws.terminate();
        });
      });
    }),
    WAIT_MS,
    `rejected upgrade ${url}`,
  );
}

