/**
 * The idle end of a session (config/session-lifetime.ts `idleSeconds`): a session whose
 * connections are all gone and which made no CR request for its idle time is ended
 * (reason `idle`), so that it stops counting as its origin's load — a client that went
 * away without a word no longer holds a place on an origin until its token expires.
 *
 * Each CR pushes the `idle` deadline forward. Writing it on every CR would add a storage
 * write to the hot path, so it is written only once it has moved by a tenth of the idle
 * time: the session may then end up to 10 % later than exactly idle, never sooner. The
 * alarm keeps its old time; when it fires early it finds the later deadline and waits on.
 */
import type { SessionRecord, SessionStore } from "./store.ts";

/** What the alarm should do about the idle deadline. */
export type IdleVerdict = "none" | "end" | "wait";

export class IdleDeadline {
  /** The object's store as it is now (forgetting a session starts a new, empty one). */
  readonly #store: () => SessionStore;
  /** The deadline as last written, so a CR can tell whether it moved enough to write. */
  #written: number | undefined;

  constructor(store: () => SessionStore) {
    this.#store = store;
  }

  /** A new session, or one kept alive by what is still open: idle from `now`. */
  start(record: SessionRecord, now: number): void {
    if (record.idleMs <= 0) return;
    this.#written = now + record.idleMs;
    this.#store().setDeadline("idle", this.#written);
  }

  /** A CR request of the session came in. */
  touch(record: SessionRecord, now: number): void {
    if (record.idleMs <= 0) return;
    const at = now + record.idleMs;
    this.#written ??= this.#store().deadline("idle");
    if (this.#written !== undefined && at - this.#written < record.idleMs / 10) return;
    this.#written = at;
    this.#store().setDeadline("idle", at);
  }

  /**
   * At the alarm: `end` when the deadline passed with nothing open; `wait` when it passed
   * but a connection is still open (the deadline starts again from now); `none` otherwise.
   */
  check(record: SessionRecord, now: number, hasOpenConnections: boolean): IdleVerdict {
    const at = this.#store().deadline("idle");
    if (at === undefined || at > now) return "none";
    if (!hasOpenConnections) return "end";
    this.start(record, now);
    return "wait";
  }

  clear(): void {
    this.#written = undefined;
    this.#store().clearDeadline("idle");
  }
}
