/**
 * This isolate's control link to its hub (durable-objects/hub/isolate-hub.ts): one
 * WebSocket per isolate, opened lazily when the first leg opens, over which the isolate
 * announces the legs it pumps and the hub passes down session objects' "end these legs".
 *
 * Workers bind every I/O object to the request that created it: a socket opened while
 * serving leg A cannot be written from leg B's request, and one leg's WebSocket cannot be
 * closed from another's. So the control socket is owned by one leg's request (the owner);
 * other legs reach it, and the socket reaches them, only by resolving promises — whose
 * continuations the runtime runs in the request that created them. When the owner's leg
 * ends, its socket closes and, HANDOVER_DELAY_MS later, another live leg's request opens a
 * new one (announcing every live leg); the hub keeps what it must send meanwhile and
 * allows a grace period for such hand-overs.
 */
import type { EndSignal } from "../../../protocols/adapter.ts";
import { isolateFrames, parseHubMessage, type IsolateMessage } from "../../../durable-objects/hub/control-messages.ts";
import { hubStub } from "../../../durable-objects/hub/stub.ts";
import { log, errorMessage } from "../../../observability/log.ts";

interface LocalLeg {
  readonly sk: string;
  /** Resolves a promise of the leg's own request: the leg ends there. */
  readonly end: (signal: EndSignal) => void;
  /** Asks the leg's own request to open the control socket (resolver re-armed after each use). */
  claim: () => void;
}

/** How many end requests for legs not (yet) registered here are remembered. */
const EARLY_ENDS = 256;
/**
 * How long the next owner waits before it opens the new socket. Legs end in bursts (an
 * origin's streams ending together, a deploy, a mass disconnect), mostly in the order they
 * opened, and the owner is the oldest live leg: without the wait, an end in a burst could
 * hand the socket to the leg about to end next — a new socket, and a `hello` listing every
 * live leg, per end (four legs ending back to back made four connects in
 * test/unit/isolate-link-handover.test.ts). A leg that ends while waiting passes the claim
 * on; one that opens meanwhile opens the socket at once. The hub keeps an end it cannot
 * send until the next `hello` (isolate-hub.ts, RECONNECT_GRACE_MS): an end is late by this
 * much, never lost.
 */
export const HANDOVER_DELAY_MS = 250;
/** Reconnect delays after a failed connect to the hub: 250 ms, doubling, at most 10 s. */
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 10_000;

class IsolateLink {
  readonly id: string = crypto.randomUUID();
  readonly #legs = new Map<string, LocalLeg>();
  readonly #endedEarly = new Map<string, EndSignal>();
  #env: Env | undefined;
  #socket: WebSocket | undefined;
  #owner: string | undefined;
  #outbox: string[] = [];
  /** The hub on the current socket takes batches (it answered `hello` with `ready`). */
  #batches = false;
  /** Failed connects in a row (for the retry delay). */
  #failures = 0;
  /** Wakes the owner's request to flush the outbox (see post()). */
  #wake: (() => void) | undefined;

  get liveLegs(): number {
    return this.#legs.size;
  }

  /**
   * Called in the leg's own request once the leg is open. `end` ends it in the protocol's
   * words. Returns `closed`, to be called (in the same request) when the leg is over.
   */
  register(env: Env, sk: string, leg: string, end: (signal: EndSignal) => void): () => void {
    this.#env = env;
    const early = this.#endedEarly.get(leg);
    if (early !== undefined) {
      this.#endedEarly.delete(leg);
      end(early);
      return () => {};
    }
    const ending = deferred<EndSignal>();
    void ending.promise.then(end);
    const local: LocalLeg = { sk, end: ending.resolve, claim: () => {} };
    const arm = (): void => {
      const claim = deferred<void>();
      local.claim = claim.resolve;
      void claim.promise.then(async () => {
        arm();
        await new Promise((resolve) => setTimeout(resolve, HANDOVER_DELAY_MS));
        return this.#open(leg);
      });
    };
    arm();
    this.#legs.set(leg, local);
    if (this.#owner === undefined) void this.#open(leg);
    else this.#post({ t: "open", sk, leg });
    return () => this.#closed(leg);
  }

  #closed(leg: string): void {
    if (!this.#legs.delete(leg)) return;
    if (this.#owner === undefined && this.#socket === undefined) {
      // No socket (a connect failed and its retry timer may have died with this request).
      this.#legs.values().next().value?.claim();
      return;
    }
    if (this.#owner !== leg) return this.#post({ t: "close", leg });
    // This request owns the socket and is about to finish: hand the socket over.
    const socket = this.#socket;
    this.#socket = undefined;
    this.#owner = undefined;
    this.#wake = undefined;
    const next = this.#legs.values().next();
    if (!next.done) next.value.claim();
    if (socket !== undefined) {
      const last = [...this.#outbox.splice(0), JSON.stringify({ t: "close", leg } satisfies IsolateMessage)];
      for (const frame of isolateFrames(last, this.#batches)) sendQuietly(socket, frame);
      try {
        socket.close(1000, "hand-over");
      } catch {
        // Already closed.
      }
    }
  }

  /** Opens the control socket from `owner`'s request and announces every live leg. */
  async #open(owner: string): Promise<void> {
    const env = this.#env;
    // Another leg's request is opening it already (claims can overlap in a burst of ends).
    if (env === undefined || !this.#legs.has(owner) || this.#socket !== undefined || this.#owner !== undefined) return;
    this.#owner = owner;
    let socket: WebSocket | null = null;
    try {
      const response = await hubStub(env, this.id).fetch("https://hub/control", { headers: { upgrade: "websocket" } });
      socket = response.webSocket;
    } catch (err) {
      log("hub_connect_failed", { isolate: this.id, message: errorMessage(err) }, "error");
    }
    if (socket === null || this.#owner !== owner) {
      if (this.#owner === owner) {
        this.#owner = undefined;
        this.#retryLater();
      }
      // Superseded while connecting (this leg ended; another owns the link now): a socket
      // left open would count, at the hub, as this isolate still being there.
      if (socket !== null) closeQuietly(socket, "superseded");
      return;
    }
    this.#failures = 0;
    socket.accept();
    this.#socket = socket;
    this.#outbox = [];
    this.#batches = false;
    const legs = [...this.#legs].map(([leg, l]) => [l.sk, leg] as const);
    sendQuietly(socket, JSON.stringify({ t: "hello", legs } satisfies IsolateMessage));
    socket.addEventListener("message", (event) => {
      const message = typeof event.data === "string" ? parseHubMessage(event.data) : undefined;
      if (message?.t === "ready") {
        if (this.#socket === socket) this.#batches = true;
      } else if (message !== undefined) this.#endLegs(message.legs, message.signal);
    });
    const lost = (): void => {
      if (this.#socket !== socket) return;
      // The hub side dropped (restart, deploy): reopen from any live leg's request.
      this.#socket = undefined;
      this.#owner = undefined;
      this.#wake = undefined;
      const next = this.#legs.values().next();
      if (!next.done) next.value.claim();
    };
    socket.addEventListener("close", lost);
    socket.addEventListener("error", lost);
    this.#armMailbox(socket);
  }

  /**
   * The hub could not be reached (overloaded, restarting): without a socket no end reaches
   * this isolate's legs, so try again — from this request's timer, with a growing delay,
   * through any live leg's request. A leg closing meanwhile re-claims in #closed.
   */
  #retryLater(): void {
    const delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** this.#failures++);
    setTimeout(() => {
      if (this.#socket !== undefined || this.#owner !== undefined) return;
      this.#legs.values().next().value?.claim();
    }, delay);
  }

  #endLegs(legs: readonly string[], signal: EndSignal): void {
    for (const leg of legs) {
      const local = this.#legs.get(leg);
      if (local !== undefined) local.end(signal);
      else {
        // Admitted, but not registered here yet: it ends as soon as it is.
        this.#endedEarly.set(leg, signal);
        if (this.#endedEarly.size > EARLY_ENDS) this.#endedEarly.delete(this.#endedEarly.keys().next().value ?? "");
      }
    }
  }

  /** Messages from any request are queued; the owner's request sends them. */
  #post(message: IsolateMessage): void {
    this.#outbox.push(JSON.stringify(message));
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Runs in the owner's request: each wake-up flushes the outbox, then waits for the next. */
  #armMailbox(socket: WebSocket): void {
    const next = deferred<void>();
    this.#wake = next.resolve;
    void next.promise.then(() => {
      if (this.#socket !== socket) return;
      for (const frame of isolateFrames(this.#outbox.splice(0), this.#batches)) sendQuietly(socket, frame);
      this.#armMailbox(socket);
    });
  }
}

function sendQuietly(ws: WebSocket, text: string): void {
  try {
    ws.send(text);
  } catch {
    // Closing: the close handler reconnects and re-announces.
  }
}

function closeQuietly(ws: WebSocket, reason: string): void {
  try {
    ws.accept();
    ws.close(1000, reason);
  } catch {
    // Already closed.
  }
}

/** Promise.withResolvers (not in this project's TS lib yet). */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

let link: IsolateLink | undefined;

/** This isolate's link; created on first use (random values are not allowed at startup). */
export function isolateLink(): IsolateLink {
  link ??= new IsolateLink();
  return link;
}
