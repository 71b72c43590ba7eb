// Sessions this origin owns: who created them, which streams and WebSockets are attached,
// and when an unattended session is forgotten. A session is the unit a CR request names;
// it outlives any single stream so a client can rebind (new stream, new WebSocket).

import { randomBytes } from "node:crypto";

export type SessionEndReason = "closed" | "expired" | "shutdown";

/** An open stream or WebSocket attached to a session. */
export type Subscriber = {
  /** A pushed (emit) event; the subscriber numbers and frames it. */
  push(data: unknown): void;
  /** The session is over; end the stream / close the WebSocket. */
  end(reason: SessionEndReason): void;
};

export type Session = {
  readonly id: string;
  readonly client: string;
  readonly createdAt: number;
  readonly subscribers: ReadonlySet<Subscriber>;
};

type SessionRecord = Session & {
  subscribers: Set<Subscriber>;
  idleTimer: NodeJS.Timeout | undefined;
};

export class SessionStore {
  readonly #sessions = new Map<string, SessionRecord>();
  readonly #idleMs: number;
  readonly #onEnd: ((session: Session, reason: SessionEndReason) => void) | undefined;

  constructor(idleMs: number, onEnd?: (session: Session, reason: SessionEndReason) => void) {
    this.#idleMs = idleMs;
    this.#onEnd = onEnd;
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Streams and WebSockets currently attached, across all sessions. */
  subscriberCount(): number {
    let total = 0;
    for (const session of this.#sessions.values()) total += session.subscribers.size;
    return total;
  }

  create(client: string): Session {
    // 128 random bits, URL-safe, no padding: unguessable, and fits a path segment as is.
    const id = randomBytes(16).toString("base64url");
    const record: SessionRecord = { id, client, createdAt: Date.now(), subscribers: new Set(), idleTimer: undefined };
    this.#sessions.set(id, record);
    this.#armIdle(record);
    return record;
  }

  get(id: string): Session | undefined {
    return this.#sessions.get(id);
  }

  /** Attaches a subscriber; the returned function detaches it (idempotent). */
  attach(session: Session, subscriber: Subscriber): () => void {
    const record = this.#sessions.get(session.id);
    if (record === undefined) {
      subscriber.end("closed");
      return () => {};
    }
    record.subscribers.add(subscriber);
    clearTimeout(record.idleTimer);
    record.idleTimer = undefined;
    return () => {
      if (!record.subscribers.delete(subscriber)) return;
      if (record.subscribers.size === 0 && this.#sessions.get(record.id) === record) this.#armIdle(record);
    };
  }

  /** Pushes `data` to every subscriber of the session; returns how many got it. */
  emit(session: Session, data: unknown): number {
    const record = this.#sessions.get(session.id);
    if (record === undefined) return 0;
    // Copy first: a subscriber may end (count reached) and detach while we iterate.
    const subscribers = [...record.subscribers];
    for (const subscriber of subscribers) subscriber.push(data);
    return subscribers.length;
  }

  /** Ends the session: every subscriber is told, then the session is forgotten. */
  close(session: Session, reason: SessionEndReason): void {
    const record = this.#sessions.get(session.id);
    if (record === undefined) return;
    this.#sessions.delete(record.id);
    clearTimeout(record.idleTimer);
    const subscribers = [...record.subscribers];
    record.subscribers.clear();
    for (const subscriber of subscribers) subscriber.end(reason);
    this.#onEnd?.(record, reason);
  }

  closeAll(reason: SessionEndReason): void {
    for (const session of [...this.#sessions.values()]) this.close(session, reason);
  }

  #armIdle(record: SessionRecord): void {
    clearTimeout(record.idleTimer);
    record.idleTimer = setTimeout(() => this.close(record, "expired"), this.#idleMs);
    // An idle session alone should not keep a process (or a test runner) alive.
    record.idleTimer.unref();
  }
}
