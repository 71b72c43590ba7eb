// One TLCP session: its subscriptions' output as a numbered log of data notifications, and
// the binding (stream, poll or WebSocket) that currently carries it.
//
// Data notifications (U, SUBOK, UNSUB, EOS, CONF, MSGDONE, MSGFAIL) are what the clients
// count for recovery; each gets the next progressive number here and waits in the log
// until a binding writes it. So nothing produced while no stream is bound (between polls,
// between a LOOP and the rebind) is lost, PROG on a bind can tell the client how many it
// was sent, and a recovery bind (LS_recovery_from) replays from the client's count as
// long as the log still holds it. Other lines (PROBE, LOOP, REQOK, CONS...) go straight
// to a binding and are never numbered.
//
// The generic SessionStore owns the session's life (capacity, expiry once unbound,
// shutdown); a binding attaches to it as a subscriber, like an SSE stream does.

import type { Session, SessionEndReason, SessionStore } from "../sessions.ts";
import { end as endLine } from "./encoding.ts";

/** Delivered notifications kept for recovery binds. */
const RECOVERY_KEEP = 2_000;
/** Undelivered notifications beyond this: nobody is reading; end the session. */
const MAX_PENDING = 20_000;

/** END codes, as the clients read them: 31 destroyed by the client; 41 ended by the
 * server, open a new session (the clients retry 41 and 48 by themselves). */
export const END_DESTROYED = 31;
export const END_RETRY = 41;

/** What a session needs from whatever carries it now. */
export type Binding = {
  /** New notifications are waiting in the log. */
  flush(): void;
  /** Writes a line that is not a data notification (CONS) right away. */
  notify(line: string): void;
  /** Another binding took over, or the client asked to rebind: LOOP, and let go. */
  supersede(): void;
  /** The session is over: write `line` (END) and close. */
  terminate(line: string): void;
};

type LogEntry = { prog: number; line: string };

export class TlcpSession {
  readonly id: string;
  readonly base: Session;
  readonly #store: SessionStore;
  readonly #log: LogEntry[] = [];
  #lastProg = 0;
  #delivered = 0;
  #binding: Binding | undefined;
  #detach: () => void = () => {};
  #disposers = new Set<() => void>();
  #ended = false;
  #holding = false;

  constructor(base: Session, store: SessionStore) {
    this.id = base.id;
    this.base = base;
    this.#store = store;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Data notifications written to some binding so far: what PROG reports. */
  get delivered(): number {
    return this.#delivered;
  }

  /** Appends a data notification and lets the current binding write it. */
  enqueue(line: string): void {
    if (this.#ended) return;
    this.#lastProg += 1;
    this.#log.push({ prog: this.#lastProg, line });
    if (this.#lastProg - this.#delivered > MAX_PENDING) {
      this.end(END_RETRY, "too many undelivered notifications");
      return;
    }
    this.#trim();
    if (!this.#holding) this.#binding?.flush();
  }

  /**
   * Runs `fn` (a batch of requests) with writing held back, then writes what it queued:
   * answers to a WebSocket batch (REQOK) go out before the notifications they caused.
   */
  holdWhile(fn: () => void): void {
    if (this.#holding) {
      fn();
      return;
    }
    this.#holding = true;
    try {
      fn();
    } finally {
      this.#holding = false;
    }
  }

  /** Writes whatever is waiting on the current binding (after holdWhile). */
  flush(): void {
    this.#binding?.flush();
  }

  /** A non-data line for the current binding, if any (dropped otherwise). */
  notify(line: string): void {
    this.#binding?.notify(line);
  }

  /** force_rebind: the current binding ends with LOOP; the client binds again. */
  rebind(): void {
    this.#binding?.supersede();
  }

  /** The next undelivered notification, if any. */
  peek(): string | undefined {
    return this.#entry(this.#delivered + 1)?.line;
  }

  /** Marks the notification peek() returned as written. */
  advance(): void {
    if (this.#delivered < this.#lastProg) this.#delivered += 1;
    this.#trim();
  }

  /**
   * A recovery bind: the client says it received `from` notifications. True (and the
   * next one written is `from + 1`) when the log still holds everything after it.
   */
  recoverFrom(from: number): boolean {
    if (from > this.#lastProg) return false;
    const oldest = this.#log[0]?.prog ?? this.#lastProg + 1;
    if (from + 1 < oldest) return false;
    this.#delivered = from;
    return true;
  }

  /** Makes `binding` the one that carries the session; the previous one is told to go. */
  bind(binding: Binding): void {
    if (this.#ended) {
      binding.terminate(endLine(END_RETRY, "session ended"));
      return;
    }
    const previous = this.#binding;
    this.#binding = undefined;
    this.#detach();
    previous?.supersede();
    this.#binding = binding;
    this.#detach = this.#store.attach(this.base, {
      push: () => {},
      end: (reason) => this.#onStoreEnd(reason),
    });
  }

  /** The binding is gone (LOOP written, peer closed): the expiry clock starts. */
  unbind(binding: Binding): void {
    if (this.#binding !== binding) return;
    this.#binding = undefined;
    this.#detach();
    this.#detach = () => {};
  }

  /** Runs `dispose` when the session ends (item unsubscriptions). Returns the remover. */
  onDispose(dispose: () => void): () => void {
    if (this.#ended) {
      dispose();
      return () => {};
    }
    this.#disposers.add(dispose);
    return () => this.#disposers.delete(dispose);
  }

  /** Ends the session from the TLCP side (destroy, overflow): END to the binding, then the
   * store forgets it. */
  end(code: number, message: string): void {
    if (this.#ended) return;
    const binding = this.#binding;
    this.#binding = undefined;
    binding?.terminate(endLine(code, message));
    this.#store.close(this.base, "closed");
    // The store calls dispose() through the registry; make sure even if it did not.
    this.dispose();
  }

  /** Releases item subscriptions and the log. Called once the store forgot the session. */
  dispose(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#detach();
    const binding = this.#binding;
    this.#binding = undefined;
    binding?.terminate(endLine(END_RETRY, "session ended"));
    for (const dispose of [...this.#disposers]) dispose();
    this.#disposers.clear();
    this.#log.length = 0;
  }

  #onStoreEnd(reason: SessionEndReason): void {
    const binding = this.#binding;
    this.#binding = undefined;
    const message = reason === "shutdown" ? "origin shutting down" : `session ${reason}`;
    binding?.terminate(endLine(reason === "closed" ? END_DESTROYED : END_RETRY, message));
  }

  #entry(prog: number): LogEntry | undefined {
    const oldest = this.#log[0]?.prog;
    return oldest === undefined ? undefined : this.#log[prog - oldest];
  }

  #trim(): void {
    // Keep every undelivered entry and the last RECOVERY_KEEP delivered ones. Splicing
    // in batches keeps the cost per notification constant.
    const oldest = this.#log[0]?.prog;
    if (oldest === undefined) return;
    const removable = this.#delivered - RECOVERY_KEEP - oldest + 1;
    if (removable >= RECOVERY_KEEP / 2) this.#log.splice(0, removable);
  }
}
