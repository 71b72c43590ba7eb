/**
 * One simulated push client for chaos and soak runs, speaking the reference origin's
 * generic protocol through the edge over SSE or WebSocket. It behaves as a real client
 * should: when its stream breaks it reattaches to the same session (CR); when it is told
 * the session is over (WS close with a code, SSE end of stream, 502/404 on CR) it opens a
 * new session (S). Along the way it checks what the chaos suite asserts:
 *   - sequence numbers of each stream are contiguous (a gap = lost events, a repeat = a
 *     duplicate); the reference origin numbers each feed from 1 and skips — does not
 *     number — ticks a slow peer cannot take, so a gap is a real loss;
 *   - every event and every CR answer names the session's own origin;
 *   - every interruption ends in a resumption, an explicit "reconnect", or (a failure) a
 *     client-side timeout because nothing came at all.
 */
import { request as httpRequest, type IncomingMessage } from "node:http";
import { WebSocket } from "ws";
import { emptyStats, type ClientStats } from "./client-stats.ts";
import type { Gate } from "./gate.ts";
import { parseJson, readAll, request, sleep } from "./http.ts";

export type Transport = "sse" | "ws";

export interface ClientOptions {
  readonly edgeUrl: string;
  readonly transport: Transport;
  /** Origin tick period for this client's streams. */
  readonly intervalMs: number;
  /** A CR control request (emit) this often; 0 = none. */
  readonly emitEveryMs: number;
  /** No byte (event, keep-alive, ping) for this long: the client gives up on the stream. */
  readonly livenessMs: number;
  /** Bound on every request/handshake. */
  readonly requestTimeoutMs: number;
  /** Shared by many clients: at most so many S requests in flight at once (the soak's ramp). */
  readonly createGate?: Gate;
}

interface Session {
  id: string;
  origin: string;
  token: string;
}

/** How a stream ended, as the client saw it. */
type StreamEnd = { kind: "told"; by: string } | { kind: "cut"; by: string } | { kind: "silent" } | { kind: "stopped" };

type Attach =
  | { ok: true; stream: OpenStream }
  | { ok: false; told: string }
  | { ok: false; failed: string };

interface OpenStream {
  readonly ended: Promise<StreamEnd>;
  close(): void;
}

export class ChaosClient {
  readonly stats: ClientStats = emptyStats();
  /** Every session this client had, for leak and misroute checks (sk comes from the token). */
  readonly history: Session[] = [];
  readonly #o: ClientOptions;
  #stopped = false;
  #current: OpenStream | undefined;
  #wakeStop: () => void = () => {};
  readonly #stopSignal: Promise<void>;
  #session: Session | undefined;
  #lastSeq = 0;
  #onSession: ((origin: string) => void) | undefined;

  constructor(options: ClientOptions, onSession?: (origin: string) => void) {
    this.#o = options;
    this.#onSession = onSession;
    this.#stopSignal = new Promise((resolve) => {
      this.#wakeStop = resolve;
    });
  }

  /** The origin of the session the client is on right now. */
  get origin(): string | undefined {
    return this.#session?.origin;
  }

  /** Runs until stop(): open, stream, recover, repeat. */
  async run(): Promise<void> {
    const emitter = this.#o.emitEveryMs > 0 ? setInterval(() => void this.#emit(), this.#o.emitEveryMs) : undefined;
    try {
      let attach = await this.#newSession();
      while (!this.#stopped) {
        if (!attach.ok) {
          attach = await this.#newSession();
          continue;
        }
        this.#current = attach.stream;
        const end = await attach.stream.ended;
        this.#current = undefined;
        if (end.kind === "stopped" || this.#stopped) break;
        if (end.kind === "told") {
          this.#told(end.by);
          attach = await this.#newSession();
          continue;
        }
        if (end.kind === "silent") this.stats.hung += 1;
        // Cut (or silent): try the same session again, as a real client's rebind would.
        const again = await this.#reattach();
        if (again.ok) this.stats.resumed += 1;
        else if ("told" in again) this.#told(again.told);
        else if (!this.#stopped) this.stats.hung += 1;
        attach = again;
      }
    } finally {
      clearInterval(emitter);
    }
  }

  /** Stops the client and closes its stream (not an interruption). */
  stop(): void {
    this.#stopped = true;
    this.#wakeStop();
    this.#current?.close();
  }

  #told(by: string): void {
    this.stats.told += 1;
    this.stats.toldBy[by] = (this.stats.toldBy[by] ?? 0) + 1;
  }

  /** S until one succeeds (or the client stops); returns the attached stream. */
  async #newSession(): Promise<Attach> {
    for (let attempt = 0; !this.#stopped; attempt++) {
      const release = (await this.#o.createGate?.acquire()) ?? (() => {});
      if (this.#stopped) {
        release();
        break;
      }
      const result = await (this.#o.transport === "sse" ? this.#createHttp() : this.#openWs(undefined)).finally(release);
      if (result.ok) return result;
      this.stats.createFailures += 1;
      if (this.stats.errors.length < 20) this.stats.errors.push("failed" in result ? result.failed : result.told);
      await Promise.race([sleep(Math.min(200 * (attempt + 1), 2_000)), this.#stopSignal]);
    }
    return { ok: false, failed: "stopped" };
  }

  #began(session: Session): void {
    this.#session = session;
    this.history.push(session);
    this.stats.sessions += 1;
    this.#onSession?.(session.origin);
  }

  async #createHttp(): Promise<Attach> {
    const res = await request(`${this.#o.edgeUrl}/session`, { method: "POST" }, this.#o.requestTimeoutMs);
    if (!res.ok) return { ok: false, failed: `S: ${res.error}` };
    const token = res.headers["x-affinity-token"];
    const body = parseJson(res.body);
    if (res.status !== 201 || typeof token !== "string" || typeof body?.id !== "string") {
      return { ok: false, failed: `S: ${res.status} ${res.body.slice(0, 100)}` };
    }
    this.#began({ id: body.id, origin: String(body.origin), token });
    return this.#attach();
  }

  /**
   * After a cut: the same session again, retrying while the edge cannot be reached at all
   * (it may be restarting) for up to `livenessMs`, as a real client's rebind loop would.
   */
  async #reattach(): Promise<Attach> {
    const deadline = Date.now() + this.#o.livenessMs;
    for (let attempt = 0; ; attempt++) {
      const result = await this.#attach();
      if (result.ok || "told" in result || this.#stopped || Date.now() >= deadline) return result;
      await Promise.race([sleep(Math.min(100 * (attempt + 1), 1_000)), this.#stopSignal]);
    }
  }

  /** CR: (re)opens the current session's stream. */
  #attach(): Promise<Attach> {
    const session = this.#session;
    if (session === undefined || this.#stopped) return Promise.resolve({ ok: false, failed: "no session" });
    return this.#o.transport === "sse" ? this.#openSse(session) : this.#openWs(session);
  }

  async #emit(): Promise<void> {
    const session = this.#session;
    if (session === undefined || this.#current === undefined || this.#stopped) return;
    this.stats.controlRequests += 1;
    const res = await request(
      `${this.#o.edgeUrl}/session/${session.id}/control`,
      { method: "POST", headers: { "x-affinity-token": session.token, "content-type": "application/json" }, body: JSON.stringify({ cmd: "emit", data: "chaos" }) },
      this.#o.requestTimeoutMs,
    );
    if (!res.ok) return; // The stream's own end tells the story; a failed emit loses no numbered event.
    const origin = res.headers["x-origin-id"];
    // An answer from any origin but the session's own is a misrouted CR request.
    if (origin !== undefined && origin !== session.origin) this.stats.misrouted += 1;
  }

  // ---- the stream, event by event ---------------------------------------------------

  #event(raw: string): void {
    const event = parseJson(raw);
    const session = this.#session;
    if (event === undefined || session === undefined) return;
    if (event.type === "hello") {
      if (event.origin !== session.origin) this.stats.misrouted += 1;
      return;
    }
    if (event.type !== "tick" && event.type !== "emit") return;
    this.stats.events += 1;
    if (event.origin !== session.origin || event.session !== session.id) this.stats.misrouted += 1;
    const seq = Number(event.seq);
    if (seq <= this.#lastSeq) this.stats.duplicated += 1;
    else if (seq > this.#lastSeq + 1) this.stats.lost += seq - this.#lastSeq - 1;
    this.#lastSeq = Math.max(this.#lastSeq, seq);
  }

  async #openSse(session: Session): Promise<Attach> {
    this.#lastSeq = 0; // each stream is a new feed, numbered from 1
    const url = `${this.#o.edgeUrl}/session/${session.id}/stream?interval_ms=${this.#o.intervalMs}`;
    return new Promise<Attach>((resolve) => {
      let settled = false;
      const settle = (a: Attach): void => {
        if (!settled) {
          settled = true;
          clearTimeout(headTimer);
          resolve(a);
        }
      };
      const req = httpRequest(url, { agent: false, headers: { accept: "text/event-stream", "x-affinity-token": session.token } }, (res) => {
        if (res.statusCode !== 200) {
          void readAll(res).then((text) => {
            const code = parseJson(text)?.error;
            const status = res.statusCode ?? 0;
            if (status === 502 || status === 404) settle({ ok: false, told: `cr ${status} ${String(code)}` });
            else settle({ ok: false, failed: `CR stream: ${status} ${text.slice(0, 100)}` });
          });
          return;
        }
        if (res.headers["x-origin-id"] !== undefined && res.headers["x-origin-id"] !== session.origin) this.stats.misrouted += 1;
        settle({ ok: true, stream: this.#sseStream(req, res) });
      });
      const headTimer = setTimeout(() => {
        req.destroy();
        settle({ ok: false, failed: "CR stream: no answer" });
      }, this.#o.requestTimeoutMs);
      req.on("error", (err) => settle({ ok: false, failed: `CR stream: ${err.message}` }));
      req.end();
    });
  }

  #sseStream(req: ReturnType<typeof httpRequest>, res: IncomingMessage): OpenStream {
    let stopping = false;
    let resolveEnd: (end: StreamEnd) => void = () => {};
    const ended = new Promise<StreamEnd>((resolve) => {
      resolveEnd = resolve;
    });
    const liveness = setTimeout(() => {
      resolveEnd({ kind: "silent" });
      req.destroy();
    }, this.#o.livenessMs);
    let buffer = "";
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => {
      liveness.refresh();
      buffer += chunk;
      let split: number;
      while ((split = buffer.indexOf("\n\n")) !== -1) {
        const block = buffer.slice(0, split);
        buffer = buffer.slice(split + 2);
        const data = block
          .split("\n")
          .filter((l) => l.startsWith("data:"))
          .map((l) => l.slice(5).trimStart())
          .join("\n");
        if (data !== "") this.#event(data);
      }
    });
    // A clean end of the stream is the generic protocol's "session over, reconnect".
    res.on("end", () => resolveEnd(stopping ? { kind: "stopped" } : { kind: "told", by: "sse end" }));
    res.on("aborted", () => resolveEnd(stopping ? { kind: "stopped" } : { kind: "cut", by: "sse aborted" }));
    res.on("error", () => resolveEnd(stopping ? { kind: "stopped" } : { kind: "cut", by: "sse error" }));
    res.on("close", () => {
      clearTimeout(liveness);
      resolveEnd(stopping ? { kind: "stopped" } : { kind: "cut", by: "sse closed" });
    });
    return {
      ended,
      close() {
        stopping = true;
        resolveEnd({ kind: "stopped" });
        clearTimeout(liveness);
        req.destroy();
      },
    };
  }

  /** S (`session` undefined: /ws announces the token) or CR (/session/:id/ws). */
  #openWs(session: Session | undefined): Promise<Attach> {
    this.#lastSeq = 0;
    const base = this.#o.edgeUrl.replace(/^http/, "ws");
    const url =
      session === undefined
        ? `${base}/ws?interval_ms=${this.#o.intervalMs}&announce_affinity=1`
        : `${base}/session/${session.id}/ws?interval_ms=${this.#o.intervalMs}`;
    const ws = new WebSocket(url, { perMessageDeflate: false, headers: session === undefined ? {} : { "x-affinity-token": session.token } });
    return new Promise<Attach>((resolve) => {
      let settled = false;
      let stopping = false;
      let token = session?.token;
      let resolveEnd: (end: StreamEnd) => void = () => {};
      const ended = new Promise<StreamEnd>((r) => {
        resolveEnd = r;
      });
      const settle = (a: Attach): void => {
        if (settled) return;
        settled = true;
        clearTimeout(openTimer);
        resolve(a);
      };
      const openTimer = setTimeout(() => {
        ws.terminate();
        settle({ ok: false, failed: `${session === undefined ? "S" : "CR"} ws: no hello` });
      }, this.#o.requestTimeoutMs);
      const liveness = setTimeout(() => {
        resolveEnd({ kind: "silent" });
        ws.terminate();
      }, this.#o.livenessMs);
      const stream: OpenStream = {
        ended,
        close() {
          stopping = true;
          resolveEnd({ kind: "stopped" });
          clearTimeout(liveness);
          ws.terminate();
        },
      };
      ws.on("ping", () => liveness.refresh());
      ws.on("unexpected-response", (_req, res) => {
        void readAll(res).then((text) => {
          const status = res.statusCode ?? 0;
          if (session !== undefined && (status === 502 || status === 404)) settle({ ok: false, told: `cr ${status} ${String(parseJson(text)?.error)}` });
          else settle({ ok: false, failed: `ws ${status} ${text.slice(0, 100)}` });
        });
      });
      ws.on("error", (err) => settle({ ok: false, failed: `ws: ${err.message}` }));
      ws.on("message", (data: Buffer) => {
        liveness.refresh();
        const text = data.toString();
        const message = parseJson(text);
        if (message?.type === "push-edge.affinity") {
          token = String(message.token);
          return;
        }
        if (message?.type === "hello" && !settled) {
          if (session === undefined) this.#began({ id: String(message.session), origin: String(message.origin), token: token ?? "" });
          else if (message.origin !== session.origin) this.stats.misrouted += 1;
          settle({ ok: true, stream });
          return;
        }
        this.#event(text);
      });
      ws.on("close", (code, reason) => {
        clearTimeout(liveness);
        if (!settled) settle({ ok: false, failed: `ws closed ${code} before hello` });
        if (stopping) return resolveEnd({ kind: "stopped" });
        // 1006: the connection just went (no close frame); any other code is an explicit signal.
        resolveEnd(code === 1006 ? { kind: "cut", by: "ws 1006" } : { kind: "told", by: `ws ${code}${reason.length > 0 ? "" : " (no reason)"}` });
      });
    });
  }
}
