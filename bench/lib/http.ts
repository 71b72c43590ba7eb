/**
 * Minimal HTTP/1.1 client on node:http with keep-alive agents: lighter than fetch, so the
 * client's own cost (which lands in every column) stays small on a 2-core machine.
 */
import { Agent, request, type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import { epochMs } from "./clock.ts";
import { TimeoutError } from "./time.ts";

export interface HttpResult {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface RequestInit {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly agent: Agent;
  readonly timeoutMs: number;
}

export function keepAliveAgent(maxSockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
}

/** Sends one request and reads the whole response body. */
export function httpRequest(url: string, init: RequestInit): Promise<HttpResult> {
  return new Promise<HttpResult>((resolve, reject) => {
    const req = request(url, {
      method: init.method ?? "GET",
      headers: { ...init.headers, ...(init.body === undefined ? {} : { "content-length": String(Buffer.byteLength(init.body)) }) },
      agent: init.agent,
      signal: AbortSignal.timeout(init.timeoutMs),
    });
    req.once("error", (err) => reject(err.name === "AbortError" ? new TimeoutError(`${url}: no response in ${init.timeoutMs} ms`) : err));
    req.once("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.once("error", reject);
      res.once("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.end(init.body);
  });
}

/** One server-sent event, parsed from its `data:` lines, with the time its bytes arrived. */
export interface ReceivedEvent {
  readonly data: unknown;
  readonly receivedAt: number;
}

export interface EventStream {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** Calls `onEvent` for every event until the stream ends, `stop()` is called or `ms` passes. */
  consume(onEvent: (event: ReceivedEvent) => "more" | "done", ms: number): Promise<"done" | "ended" | "timeout">;
  stop(): void;
}

/** Opens a GET stream; resolves once the response head is in (any status). */
export function openEventStream(url: string, init: RequestInit): Promise<EventStream> {
  return new Promise<EventStream>((resolve, reject) => {
    const req = request(url, { method: "GET", headers: { accept: "text/event-stream", ...init.headers }, agent: init.agent });
    const headTimer = setTimeout(() => req.destroy(new TimeoutError(`${url}: no response head in ${init.timeoutMs} ms`)), init.timeoutMs);
    req.once("error", (err) => {
      clearTimeout(headTimer);
      reject(err);
    });
    req.once("response", (res) => {
      clearTimeout(headTimer);
      // After the head, errors (our own destroy included) are reported by consume().
      req.removeAllListeners("error");
      req.on("error", () => {});
      resolve(eventStream(res, () => req.destroy()));
    });
    req.end();
  });
}

function eventStream(res: IncomingMessage, destroy: () => void): EventStream {
  return {
    status: res.statusCode ?? 0,
    headers: res.headers,
    stop: destroy,
    consume(onEvent, ms) {
      return new Promise((resolve) => {
        let buffer = "";
        let finished = false;
        const finish = (how: "done" | "ended" | "timeout"): void => {
          if (finished) return;
          finished = true;
          clearTimeout(timer);
          res.removeAllListeners("data");
          resolve(how);
        };
        const timer = setTimeout(() => finish("timeout"), ms);
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          // One timestamp per chunk: every event in it arrived at the same moment.
          const receivedAt = epochMs();
          buffer += chunk;
          for (let end = buffer.indexOf("\n\n"); end >= 0 && !finished; end = buffer.indexOf("\n\n")) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const data = block
              .split("\n")
              .filter((line) => line.startsWith("data:"))
              .map((line) => line.slice(5).trim())
              .join("\n");
            if (data === "") continue; // keep-alive comment
            let parsed: unknown;
            try {
              parsed = JSON.parse(data);
            } catch {
              parsed = data;
            }
            if (onEvent({ data: parsed, receivedAt }) === "done") finish("done");
          }
        });
        res.once("end", () => finish("ended"));
        res.once("error", () => finish("ended"));
        res.once("close", () => finish("ended"));
      });
    },
  };
}
