// Raw TLCP clients for integration tests: HTTP requests whose answers are read line by
// line as they stream, and a WebSocket speaking the TLCP subprotocol. Every wait is
// bounded and names what it waited for.

import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { WebSocket } from "ws";
import { WAIT_MS, withTimeout } from "./wait.ts";

export const TLCP_SUBPROTOCOL = "TLCP-2.5.0.lightstreamer.com";

/** Lines (CRLF-terminated) as they arrive, one at a time. */
export class LineQueue {
  readonly #lines: string[] = [];
  readonly #waiters: Array<() => void> = [];
  #ended: string | undefined;
  #partial = "";

  feed(text: string): void {
    this.#partial += text;
    let split: number;
    while ((split = this.#partial.indexOf("\r\n")) !== -1) {
      this.#lines.push(this.#partial.slice(0, split));
      this.#partial = this.#partial.slice(split + 2);
    }
    this.#wake();
  }

  end(reason: string): void {
    this.#ended ??= reason;
    this.#wake();
  }

  get ended(): string | undefined {
    return this.#ended;
  }

  /** The next line; rejects when the source ends first or after `ms`. */
  async next(what: string, ms = WAIT_MS): Promise<string> {
    return withTimeout(
      (async () => {
        for (;;) {
          const line = this.#lines.shift();
          if (line !== undefined) return line;
          if (this.#ended !== undefined) throw new Error(`${what}: stream ended (${this.#ended})`);
          await new Promise<void>((resolve) => this.#waiters.push(resolve));
        }
      })(),
      ms,
      what,
    );
  }

  /** Lines up to and including the first one that satisfies `match`. */
  async until(match: (line: string) => boolean, what: string, ms = WAIT_MS): Promise<string[]> {
    const deadline = Date.now() + ms;
    const seen: string[] = [];
    for (;;) {
      const line = await this.next(what, Math.max(1, deadline - Date.now()));
      seen.push(line);
      if (match(line)) return seen;
    }
  }

  /** Resolves once the source ended; the lines left are returned. */
  async rest(what: string, ms = WAIT_MS): Promise<string[]> {
    await withTimeout(
      (async () => {
        while (this.#ended === undefined) await new Promise<void>((resolve) => this.#waiters.push(resolve));
      })(),
      ms,
      what,
    );
    return this.#lines.splice(0);
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }
}

export type TlcpHttpStream = {
  status: number;
  headers: IncomingHttpHeaders;
  lines: LineQueue;
  /** Bytes of body received so far. */
  bytes(): number;
  close(): void;
};

/** POSTs a TLCP request and hands its answer out line by line, as it streams. */
export async function tlcpRequest(
  base: string,
  request: string,
  body: string,
  query: Record<string, string> = {},
): Promise<TlcpHttpStream> {
  const search = new URLSearchParams({ LS_protocol: "TLCP-2.5.0", ...query });
  const lines = new LineQueue();
  let bytes = 0;
  let close = (): void => {};
  const head = new Promise<{ status: number; headers: IncomingHttpHeaders }>((resolve, reject) => {
    const req = httpRequest(
      `${base}/lightstreamer/${request}.txt?${search.toString()}`,
      // The real clients label the body like a form; the origin must read it as text.
      { method: "POST", agent: false, headers: { "Content-Type": "application/x-www-form-urlencoded" } },
      (res) => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers });
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          bytes += Buffer.byteLength(chunk);
          lines.feed(chunk);
        });
        res.on("end", () => lines.end("end"));
        res.on("close", () => lines.end("close"));
        res.on("error", (error) => lines.end(`error: ${error.message}`));
      },
    );
    close = () => req.destroy();
    req.on("error", (error) => {
      lines.end(`error: ${error.message}`);
      reject(error);
    });
    req.end(body);
  });
  const { status, headers } = await withTimeout(head, WAIT_MS, `answer head of ${request}.txt`);
  return { status, headers, lines, bytes: () => bytes, close: () => close() };
}

/** A TLCP request whose whole answer is wanted (control, msg, heartbeat, polls). */
export async function tlcpLines(
  base: string,
  request: string,
  body: string,
  query: Record<string, string> = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; lines: string[] }> {
  const answer = await tlcpRequest(base, request, body, query);
  const lines = await answer.lines.rest(`the whole answer to ${request}.txt`);
  return { status: answer.status, headers: answer.headers, lines };
}

/** create_session as the real clients do it over HTTP: a zero-length poll. Returns the id. */
export async function createTlcpSession(base: string, extra = ""): Promise<string> {
  const { lines } = await tlcpLines(base, "create_session", `LS_polling=true&LS_polling_millis=0&LS_idle_millis=0&LS_adapter_set=DEMO&LS_cid=test${extra}`);
  const conok = lines.find((line) => line.startsWith("CONOK,"));
  const id = conok?.split(",")[1];
  if (id === undefined) throw new Error(`create_session answered ${JSON.stringify(lines)}`);
  return id;
}

export type TlcpWebSocket = {
  ws: WebSocket;
  upgradeHeaders: IncomingHttpHeaders;
  lines: LineQueue;
  /** Messages as received (a message may hold several lines). */
  messages: string[];
  send(text: string): void;
  close(): Promise<void>;
};

export async function openTlcpWebSocket(base: string, protocols: string[] = [TLCP_SUBPROTOCOL]): Promise<TlcpWebSocket> {
  const ws = new WebSocket(`${base.replace(/^http/, "ws")}/lightstreamer`, protocols, { perMessageDeflate: false });
  const lines = new LineQueue();
  const messages: string[] = [];
  let upgradeHeaders: IncomingHttpHeaders = {};
  ws.on("upgrade", (res) => {
    upgradeHeaders = res.headers;
  });
  ws.on("message", (data, isBinary) => {
    if (isBinary) return;
    const text = Array.isArray(data) ? Buffer.concat(data).toString() : Buffer.isBuffer(data) ? data.toString() : Buffer.from(data).toString();
    messages.push(text);
    lines.feed(text);
  });
  const closed = new Promise<void>((resolve) => {
    ws.on("close", (code) => {
      lines.end(`close ${code}`);
      resolve();
    });
  });
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
      ws.once("unexpected-response", (_req, res) => reject(new Error(`TLCP WebSocket answered ${res.statusCode}`)));
    }),
    WAIT_MS,
    "TLCP WebSocket open",
  );
  return {
    ws,
    upgradeHeaders,
    lines,
    messages,
    send: (text) => ws.send(text),
    async close() {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close();
      await withTimeout(closed, WAIT_MS, "TLCP WebSocket close").catch(() => ws.terminate());
    },
  };
}
