/**
 * One per edge isolate, named by the isolate's random id (workers/edge/legs/isolate-link.ts):
 * the control path between the session objects and the legs that isolate pumps (relay
 * mode `edge`). The isolate holds one hibernatable WebSocket to it; the hub knows which
 * legs the isolate has open, passes a session object's "end these legs" down the socket,
 * and, when the isolate is gone (its socket closed and none came back, or — after the
 * whole runtime restarted — no socket at all), tells each session object which of its legs
 * are lost, so no session counts a dead leg forever.
 *
 * It sleeps between messages: the socket is accepted with the Hibernation API, the legs
 * are in SQLite, and nothing else is kept in memory.
 */
import { DurableObject } from "cloudflare:workers";
import type { EndSignal } from "../../protocols/adapter.ts";
import { errorMessage, log } from "../../observability/log.ts";
import { ActivityMeter, type Activity } from "../activity.ts";
import { migrateSchema } from "../sqlite-schema.ts";
import { sessionStub } from "../session/stub.ts";
import { parseIsolateMessages, type EndLegsMessage, type HubReadyMessage } from "./control-messages.ts";

/** How long a closed control socket may take to come back before its legs count as lost. */
export const RECONNECT_GRACE_MS = 10_000;
/** While legs are open, the hub checks this often that a socket is still there (restart backstop). */
export const BACKSTOP_MS = 60_000;

const MIGRATIONS = [
  `CREATE TABLE legs (leg TEXT PRIMARY KEY, sk TEXT NOT NULL)`,
  // v2: an end sent but not yet confirmed by the leg's close: sent again to a socket that
  // announces the leg later (the isolate was handing its socket over when the end went out).
  `ALTER TABLE legs ADD COLUMN ending TEXT`,
];

export interface HubView {
  readonly legs: number;
  readonly sockets: number;
  readonly activity: Activity;
}

export class IsolateHub extends DurableObject<Env> {
  readonly #sql: SqlStorage;
  readonly #meter: ActivityMeter;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    migrateSchema(this.#sql, MIGRATIONS);
    this.#meter = new ActivityMeter(this.#sql);
    if (this.#meter.totals().requests > 0) this.#meter.woke();
  }

  override fetch(request: Request): Promise<Response> {
    return this.#meter.run("request", () => {
      if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return new Response("control socket only", { status: 426 });
      const pair = new WebSocketPair();
      this.ctx.acceptWebSocket(pair[1]);
      return new Response(null, { status: 101, webSocket: pair[0] });
    });
  }

  override webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    return this.#meter.run("message", async () => {
      // A batch (control-messages.ts) is applied in order, in this one event: its writes are
      // one transaction.
      const messages = typeof data === "string" ? parseIsolateMessages(data) : [];
      for (const message of messages) {
        if (message.t === "open") this.#sql.exec("INSERT OR IGNORE INTO legs (leg, sk) VALUES (?, ?)", message.leg, message.sk);
        else if (message.t === "close") this.#sql.exec("DELETE FROM legs WHERE leg = ?", message.leg);
        else this.#hello(ws, message.legs);
      }
      if (messages.some((m) => m.t !== "close") && (await this.ctx.storage.getAlarm()) === null) {
        await this.ctx.storage.setAlarm(Date.now() + BACKSTOP_MS);
      }
    });
  }

  override webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    return this.#meter.run("close", async () => {
      try {
        ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
      } catch {
        // Already closed.
      }
      // Another socket of the same isolate (a hand-over) keeps its legs; otherwise give it a moment to come back.
      if (this.#openSockets(ws) === 0 && this.#legCount() > 0) await this.ctx.storage.setAlarm(Date.now() + RECONNECT_GRACE_MS);
    });
  }

  override webSocketError(ws: WebSocket): Promise<void> {
    return this.webSocketClose(ws, 1011, "control socket failed");
  }

  /** No socket: the isolate is gone, and so are its legs. With a socket: check again later. */
  override alarm(): Promise<void> {
    return this.#meter.run("request", async () => {
      if (this.#legCount() === 0) return;
      if (this.#openSockets() > 0) {
        await this.ctx.storage.setAlarm(Date.now() + BACKSTOP_MS);
        return;
      }
      await this.#reportLost("the edge isolate pumping it is gone");
    });
  }

  /**
   * RPC from a session object: end these legs of session `sk` with `signal`. Returns the
   * legs the hub cannot reach (no socket open and never announced by its isolate): the
   * caller records them lost. Announced legs without a socket are reported by the alarm.
   */
  endLegs(sk: string, legs: string[], signal: EndSignal): Promise<string[]> {
    return this.#meter.run("request", async () => {
      const sockets = this.ctx.getWebSockets().filter((ws) => ws.readyState === WebSocket.OPEN);
      if (sockets.length === 0) {
        // Between two sockets of a hand-over (the leg owning the socket ended; another leg's
        // request is opening the next) or a reconnect: legs the isolate announced keep
        // their end, which the next hello gets; if no socket comes back within the grace,
        // the alarm reports them lost. Legs never announced here cannot be reached.
        const known = legs.filter((leg) => this.#sql.exec("SELECT 1 FROM legs WHERE leg = ? AND sk = ?", leg, sk).toArray().length > 0);
        for (const leg of known) this.#sql.exec("UPDATE legs SET ending = ? WHERE leg = ?", JSON.stringify(signal), leg);
        if (known.length > 0 && (await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + RECONNECT_GRACE_MS);
        return legs.filter((leg) => !known.includes(leg));
      }
      // Kept until the leg's close is reported: a socket that announces it later gets the end again.
      const text = JSON.stringify({ t: "end", legs, signal } satisfies EndLegsMessage);
      for (const leg of legs) this.#sql.exec("INSERT OR REPLACE INTO legs (leg, sk, ending) VALUES (?, ?, ?)", leg, sk, JSON.stringify(signal));
      for (const ws of sockets) sendQuietly(ws, text);
      return [];
    });
  }

  /** RPC for the admin API. */
  describe(): Promise<HubView> {
    return this.#meter.run("request", () => ({ legs: this.#legCount(), sockets: this.#openSockets(), activity: this.#meter.totals() }));
  }

  /**
   * A (re)connected socket lists the isolate's live legs: they replace the hub's list, and
   * legs whose end went out meanwhile (maybe on the socket being handed over) get it again.
   */
  #hello(ws: WebSocket, legs: ReadonlyArray<readonly [string, string]>): void {
    sendQuietly(ws, JSON.stringify({ t: "ready", batches: true } satisfies HubReadyMessage));
    const live = new Set(legs.map(([, leg]) => leg));
    const known = this.#sql.exec<{ leg: string; sk: string; ending: string | null }>("SELECT leg, sk, ending FROM legs").toArray();
    for (const row of known) if (!live.has(row.leg)) this.#sql.exec("DELETE FROM legs WHERE leg = ?", row.leg);
    for (const [sk, leg] of legs) this.#sql.exec("INSERT OR IGNORE INTO legs (leg, sk) VALUES (?, ?)", leg, sk);
    for (const row of known) {
      if (row.ending === null || !live.has(row.leg)) continue;
      const signal = JSON.parse(row.ending) as EndSignal;
      sendQuietly(ws, JSON.stringify({ t: "end", legs: [row.leg], signal } satisfies EndLegsMessage));
    }
  }

  async #reportLost(why: string): Promise<void> {
    const rows = this.#sql.exec<{ leg: string; sk: string }>("SELECT leg, sk FROM legs").toArray();
    this.#sql.exec("DELETE FROM legs");
    const bySession = new Map<string, string[]>();
    for (const { leg, sk } of rows) bySession.set(sk, [...(bySession.get(sk) ?? []), leg]);
    await Promise.all(
      [...bySession].map(async ([sk, legs]) => {
        try {
          await sessionStub(this.env, sk).legsLost(legs, why);
        } catch (err) {
          log("hub_report_failed", { sk, legs: legs.length, message: errorMessage(err) }, "error");
        }
      }),
    );
  }

  #legCount(): number {
    return this.#sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM legs").one().n;
  }

  #openSockets(except?: WebSocket): number {
    return this.ctx.getWebSockets().filter((ws) => ws !== except && ws.readyState === WebSocket.OPEN).length;
  }
}

function sendQuietly(ws: WebSocket, text: string): boolean {
  try {
    ws.send(text);
    return true;
  } catch {
    // Closing; another socket (or a later hello) carries it.
    return false;
  }
}
