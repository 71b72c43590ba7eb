/**
 * A fleet of simulated push clients for the local stack (integration tests, benchmarks):
 * generic WebSocket clients that behave like real push clients: each opens a
 * session through the edge (S: `/ws`, learning its token in-band), and whenever the server
 * closes it, opens a new one through the edge — which places it wherever the pool says.
 * The fleet records every session's origin and every close code it was given.
 */
import { WebSocket } from "ws";

/** Rejects after `ms`, naming what was awaited. */
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface Member {
  /** Origins of this client's sessions, oldest first. */
  readonly origins: string[];
  /** When each of those sessions was established (ms epoch), same order. */
  readonly openedAt: number[];
  /** When the server last closed this client's session (ms epoch). */
  lostAt: number | undefined;
  /** Close codes the server sent this client. */
  readonly closes: number[];
  token: string;
  session: string;
  socket: WebSocket | undefined;
}

export class Fleet {
  readonly members: Member[] = [];
  readonly errors: string[] = [];
  readonly #wsBase: string;
  #stopping = false;

  constructor(edgeUrl: string) {
    this.#wsBase = edgeUrl.replace(/^http/, "ws");
  }

  /** Opens `count` sessions, `parallel` at a time. */
  async open(count: number, parallel = 10): Promise<void> {
    const pending = Array.from({ length: count }, () => ({ origins: [], openedAt: [], lostAt: undefined, closes: [], token: "", session: "", socket: undefined }) as Member);
    this.members.push(...pending);
    let next = 0;
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        while (next < pending.length) {
          const member = pending[next++];
          if (member !== undefined) await this.#connect(member);
        }
      }),
    );
  }

  /** Sessions per origin, counting each client's current session. */
  counts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const m of this.members) {
      const origin = m.origins.at(-1);
      if (origin !== undefined && m.socket?.readyState === WebSocket.OPEN) counts.set(origin, (counts.get(origin) ?? 0) + 1);
    }
    return counts;
  }

  /** Waits (bounded) until `check` holds. */
  async until(check: () => boolean, ms: number, what: string): Promise<void> {
    await withTimeout(
      (async () => {
        while (!check()) await new Promise((r) => setTimeout(r, 100));
      })(),
      ms,
      what,
    );
  }

  async close(): Promise<void> {
    this.#stopping = true;
    for (const m of this.members) m.socket?.terminate();
  }

  async #connect(member: Member): Promise<void> {
    for (let attempt = 0; attempt < 20 && !this.#stopping; attempt++) {
      try {
        await this.#openOnce(member);
        return;
      } catch (err) {
        // A refused S (503 while the pool is busy) is retried after a pause, as a client would.
        this.errors.push(err instanceof Error ? err.message : String(err));
        await new Promise((r) => setTimeout(r, 200 + attempt * 100));
      }
    }
  }

  #openOnce(member: Member): Promise<void> {
    const ws = new WebSocket(`${this.#wsBase}/ws?interval_ms=0&announce_affinity=1`);
    return withTimeout(
      new Promise<void>((resolve, reject) => {
        let stage = 0;
        ws.once("unexpected-response", (_req, res) => reject(new Error(`S refused: ${res.statusCode}`)));
        ws.once("error", reject);
        ws.on("message", (data: Buffer) => {
          const message = JSON.parse(data.toString()) as Record<string, unknown>;
          if (stage === 0 && message.type === "push-edge.affinity") {
            member.token = String(message.token);
            stage = 1;
          } else if (stage === 1 && message.type === "hello") {
            member.session = String(message.session);
            member.origins.push(String(message.origin));
            member.openedAt.push(Date.now());
            member.socket = ws;
            stage = 2;
            resolve();
          }
        });
        ws.once("close", (code) => {
          if (stage < 2) return reject(new Error(`closed ${code} before hello`));
          member.closes.push(code);
          member.lostAt = Date.now();
          member.socket = undefined;
          // The server ended this session: a push client opens a new one.
          if (!this.#stopping) void this.#connect(member);
        });
      }),
      15_000,
      "a session to open",
    );
  }
}
