/**
 * One WebSocket with at most one echo outstanding, opened as an S request through any
 * target (with the headers the target wants on S requests) and ready once the origin's
 * hello has arrived. Shared by the echo, throughput and held-session scenarios.
 */
import { WebSocket, type RawData } from "ws";
import { monoMs } from "./clock.ts";
import { within } from "./time.ts";

export class EchoSocket {
  readonly #ws: WebSocket;
  #waiting: { payload: string; sentAt: number; resolve: (rtt: number) => void } | undefined;
  #closed = false;
  closeCode: number | undefined;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on("message", (data: RawData, binary: boolean) => {
      const receivedAt = monoMs();
      const waiting = this.#waiting;
      if (waiting === undefined || binary) return;
      if (rawText(data) !== waiting.payload) return; // hello or another frame: not our echo
      this.#waiting = undefined;
      waiting.resolve(receivedAt - waiting.sentAt);
    });
    ws.once("close", (code: number) => {
      this.#closed = true;
      this.closeCode = code;
      this.onClose?.(code);
    });
    ws.on("error", () => {
      // 'close' follows; the pending echo times out with a clear message.
    });
  }

  /** Opens the socket and waits for the origin's first message (its hello). */
  static async open(url: string, timeoutMs: number, options: { headers?: Record<string, string>; localAddress?: string } = {}): Promise<EchoSocket> {
    const ws = new WebSocket(url, { perMessageDeflate: false, headers: options.headers, localAddress: options.localAddress });
    let hello: unknown;
    try {
      await within(
        timeoutMs,
        "the WebSocket to open and say hello",
        new Promise<void>((resolve, reject) => {
          ws.once("message", (data: RawData) => {
            try {
              hello = JSON.parse(rawText(data));
            } catch {
              hello = undefined;
            }
            resolve();
          });
          ws.once("error", reject);
          ws.once("close", (code, reason) => reject(new Error(`closed before hello: ${code} ${reason.toString()}`)));
          ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode ?? "?"}`)));
        }),
      );
    } catch (err) {
      ws.terminate();
      throw err;
    }
    ws.removeAllListeners("error");
    ws.removeAllListeners("close");
    const socket = new EchoSocket(ws);
    const origin = typeof hello === "object" && hello !== null ? (hello as Record<string, unknown>).origin : undefined;
    socket.origin = typeof origin === "string" ? origin : undefined;
    return socket;
  }

  /** The origin that said hello (its `origin` field), if it said. */
  origin: string | undefined;

  /** Called once when the socket closes after it was open (the server ended it, or we did). */
  onClose: ((code: number) => void) | undefined;

  get usable(): boolean {
    return !this.#closed && this.#ws.readyState === WebSocket.OPEN;
  }

  echo(payload: string, timeoutMs: number): Promise<number> {
    const result = new Promise<number>((resolve) => {
      this.#waiting = { payload, sentAt: monoMs(), resolve };
    });
    this.#ws.send(payload);
    return within(timeoutMs, "an echo", result).finally(() => {
      this.#waiting = undefined;
    });
  }

  async close(): Promise<void> {
    if (this.#ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((resolve) => this.#ws.once("close", () => resolve()));
    this.#ws.close(1000, "bench done");
    await within(2_000, "the WebSocket to close", closed).catch(() => this.#ws.terminate());
  }
}

export function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString();
  return Buffer.isBuffer(data) ? data.toString() : Buffer.from(data).toString();
}
