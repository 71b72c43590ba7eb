// The edge with `tcp`-transport origins that require a PROXY header, and clients that
// reach the edge from a loopback address other than 127.0.0.1: the edge sees that address
// (CF-Connecting-IP), the origin's TCP peer is the edge (127.0.0.1), so when an origin
// reports the client's address it can only have learnt it from the PROXY header.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebSocket } from "ws";
import type { RunningStack } from "../../../infra/local/stack.ts";
import { testStack } from "./stack.ts";
import { WAIT_MS, withTimeout } from "./wait.ts";

/** Where test clients connect from (any 127/8 address is loopback on Linux). */
export const CLIENT_ADDRESS = "127.0.0.5";
export const AUTH_KID = "pp-test";
export const AUTH_KEYS = { [AUTH_KID]: Buffer.alloc(32, 7).toString("base64url") };

export interface ProxyStack {
  readonly stack: RunningStack;
  readonly edgeUrl: string;
  /** The origins' second listener, without PROXY: for /_debug/requests only. */
  readonly inspectUrls: readonly string[];
  close(): Promise<void>;
}

export interface ProxyStackOptions {
  readonly version: 1 | 2;
  /** Sign headers (edge) and require signatures (origin). */
  readonly auth?: boolean;
  readonly originCount?: number;
  readonly originArgs?: readonly string[];
  /** The edge's PROXY_AUTH_KEYS, when it should differ from the origins' key file. */
  readonly edgeKeys?: Record<string, string>;
}

export async function proxyStack(options: ProxyStackOptions): Promise<ProxyStack> {
  const dir = await mkdtemp(join(tmpdir(), "push-edge-proxy-"));
  const keyFile = join(dir, "proxy-auth-keys.json");
  await writeFile(keyFile, JSON.stringify(AUTH_KEYS));
  const auth = options.auth === true;
  const stack = await testStack({
    originCount: options.originCount ?? 1,
    originArgs: [
      "--proxy",
      "require",
      ...(auth ? ["--proxy-auth-keys-file", keyFile] : []),
      // A second listener for the test to read the request log through, without PROXY.
      "--listen",
      "combined=127.0.0.1:0,proxy=refuse,proxy-auth=off",
      ...(options.originArgs ?? []),
    ],
    originTransport: { transport: "tcp", proxy: { version: options.version, ...(auth ? { authKid: AUTH_KID } : {}) } },
    vars: { PROXY_AUTH_KEYS: JSON.stringify(options.edgeKeys ?? AUTH_KEYS) },
  }).catch(async (err: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw err;
  });
  return {
    stack,
    edgeUrl: stack.edgeUrl,
    inspectUrls: stack.processes.map((p) => p.listeners[1]?.url ?? ""),
    async close() {
      await stack.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface LoggedProxyRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly client: string;
  readonly via: string;
  readonly peer: string;
  readonly proxy?: { version: number; command: string; uniqueId?: string; tlvTypes: number[]; authKid?: string };
}

export async function loggedRequests(inspectUrl: string): Promise<LoggedProxyRequest[]> {
  const res = await fetch(`${inspectUrl}/_debug/requests`);
  return (await res.json()) as LoggedProxyRequest[];
}

/** The session key (`sk`) an affinity token names: the PROXY header's unique id. */
export function sessionKeyOf(token: string): string {
  const payload = token.split(".")[1] ?? "";
  return (JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { sk: string }).sk;
}

export type Answer = { status: number; headers: IncomingHttpHeaders; body: unknown };

/** One request from CLIENT_ADDRESS; the body parsed as JSON when it is JSON. */
export function fromClient(url: string, options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Answer> {
  return withTimeout(
    new Promise<Answer>((resolve, reject) => {
      const req = httpRequest(url, { method: options.method ?? "GET", agent: false, localAddress: CLIENT_ADDRESS, headers: options.headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // Not JSON: keep the text.
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      });
      req.on("error", reject);
      req.end(options.body);
    }),
    WAIT_MS,
    `${options.method ?? "GET"} ${url}`,
  );
}

/** Items one at a time, each wait bounded; `end` makes every later wait fail at once. */
class Inbox<T> {
  readonly #items: T[] = [];
  readonly #waiters: Array<{ resolve: (item: T) => void; reject: (err: Error) => void }> = [];
  #ended: string | undefined;
  push(item: T): void {
    const waiter = this.#waiters.shift();
    if (waiter === undefined) this.#items.push(item);
    else waiter.resolve(item);
  }
  end(why: string): void {
    this.#ended = why;
    for (const w of this.#waiters.splice(0)) w.reject(new Error(`ended: ${why}`));
  }
  next(what: string): Promise<T> {
    const item = this.#items.shift();
    if (item !== undefined) return Promise.resolve(item);
    if (this.#ended !== undefined) return Promise.reject(new Error(`${what}: ended (${this.#ended})`));
    return withTimeout(new Promise<T>((resolve, reject) => this.#waiters.push({ resolve, reject })), WAIT_MS, what);
  }
}

export interface SseFromClient {
  readonly headers: IncomingHttpHeaders;
  /** The next event's data (comments skipped). */
  next(): Promise<string>;
  close(): void;
}

export function sseFromClient(url: string, headers: Record<string, string>): Promise<SseFromClient> {
  const events = new Inbox<string>();
  return withTimeout(
    new Promise<SseFromClient>((resolve, reject) => {
      const req = httpRequest(url, { agent: false, localAddress: CLIENT_ADDRESS, headers: { accept: "text/event-stream", ...headers } }, (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`SSE ${url} answered ${res.statusCode}`));
          res.resume();
          return;
        }
        let buffer = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          buffer += chunk;
          for (let split = buffer.indexOf("\n\n"); split !== -1; split = buffer.indexOf("\n\n")) {
            const block = buffer.slice(0, split);
            buffer = buffer.slice(split + 2);
            const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim());
            if (data.length > 0) events.push(data.join("\n"));
          }
        });
        res.on("close", () => events.end("stream closed"));
        resolve({ headers: res.headers, next: () => events.next(`an SSE event from ${url}`), close: () => req.destroy() });
      });
      req.on("error", reject);
      req.end();
    }),
    WAIT_MS,
    `SSE head from ${url}`,
  );
}

export interface WsFromClient {
  readonly ws: WebSocket;
  readonly upgradeHeaders: IncomingHttpHeaders;
  next(): Promise<{ data: Buffer; isBinary: boolean }>;
  nextJson(): Promise<Record<string, unknown>>;
  closed(): Promise<{ code: number; reason: string }>;
}

export async function wsFromClient(url: string, headers: Record<string, string>): Promise<WsFromClient> {
  const ws = new WebSocket(url, { perMessageDeflate: false, headers, localAddress: CLIENT_ADDRESS });
  const messages = new Inbox<{ data: Buffer; isBinary: boolean }>();
  let upgradeHeaders: IncomingHttpHeaders = {};
  ws.on("upgrade", (res) => (upgradeHeaders = res.headers));
  ws.on("message", (data, isBinary) => {
    messages.push({ data: Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data), isBinary });
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
    next: () => messages.next(`a WebSocket message from ${url}`),
    async nextJson() {
      const m = await messages.next(`a WebSocket JSON message from ${url}`);
      return JSON.parse(m.data.toString("utf8")) as Record<string, unknown>;
    },
    closed: () => withTimeout(closed, WAIT_MS, `WebSocket ${url} to close`),
  };
}
