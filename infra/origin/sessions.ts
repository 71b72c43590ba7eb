// Sessions this origin owns: who created them, which streams and WebSockets are attached,
// and when an unattended session is forgotten. A session is the unit a CR request names;
// it outlives any single stream so a client can rebind (new stream, new WebSocket).

import { randomBytes } from "node:crypto";

export type SessionEndReason = "closed" | "expired" | "shutdown";

/** Which protocol owns a session: a CR request of one protocol never reaches another's. */
export type SessionProtocol = "generic" | "tlcp";

export type CreateSessionOptions = {
  protocol?: SessionProtocol;
  /** Overrides the store's idle period for this session (TLCP has its own expiry). */
  idleMs?: number;
  /** The `sk` of the push-edge token that created it (with --jwks-url). */
  edgeSessionKey?: string;
};

/** An open stream or WebSocket attached to a session. */
export type Subscriber = {
  /** A pushed (emit) event; the subscriber numbers and frames it. */
  push(data: unknown): void;
  /** The session is over; end the stream / close the WebSocket. */
  end(reason: SessionEndReason): void;
};

export type Session = {
  readonly id: string;
  readonly protocol: SessionProtocol;
  readonly client: string;
  readonly createdAt: number;
  readonly subscribers: ReadonlySet<Subscriber>;
  /** The edge's session key (token `sk`) this session belongs to, when created through a verifying edge. */
  readonly edgeSessionKey: string | undefined;
};

type SessionRecord = Session & {
  subscribers: Set<Subscriber>;
  idleMs: number;
  idleTimer: NodeJS.Timeout | undefined;
};

type EndListener = (session: Session, reason: SessionEndReason) => void;

export class SessionStore {
  readonly #sessions = new Map<string, SessionRecord>();
  readonly #idleMs: number;
  readonly #onEnd: EndListener[] = [];

  constructor(idleMs: number, onEnd?: EndListener) {
    this.#idleMs = idleMs;
    if (onEnd !== undefined) this.#onEnd.push(onEnd);
  }

  /** Called after a session ended (its subscribers were told first). */
  onSessionEnd(listener: EndListener): void {
    this.#onEnd.push(listener);
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

  create(client: string, options: CreateSessionOptions = {}): Session {
    // 128 random bits, URL-safe, no padding: unguessable, and fits a path segment (and a
    // TLCP query string, where clients put it unencoded) as is.
    const id = randomBytes(16).toString("base64url");
    const record: SessionRecord = {
      id,
      protocol: options.protocol ?? "generic",
      client,
      createdAt: Date.now(),
      subscribers: new Set(),
      edgeSessionKey: options.edgeSessionKey,
      idleMs: options.idleMs ?? this.#idleMs,
      idleTimer: undefined,
    };
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
    for (const listener of this.#onEnd) listener(record, reason);
  }

  closeAll(reason: SessionEndReason): void {
    for (const session of [...this.#sessions.values()]) this.close(session, reason);
  }

  #armIdle(record: SessionRecord): void {
    clearTimeout(record.idleTimer);
    record.idleTimer = setTimeout(() => this.close(record, "expired"), record.idleMs);
    // An idle session alone should not keep a process (or a test runner) alive.
    record.idleTimer.unref();
  }
}
