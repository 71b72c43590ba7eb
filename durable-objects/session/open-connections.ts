/**
 * What a session object is relaying right now, so that it can end the session on
 * purpose: open WebSockets, streamed HTTP responses, and requests still waiting for the
 * origin's answer. Once ended, anything that opens late is ended at once.
 */
import type { EndSignal } from "../../protocols/adapter.ts";
import { RelayedStream } from "../../relay/relayed-stream.ts";
import { isStreamingAnswer } from "../../relay/http-relay.ts";
import type { RelayedWebSocket } from "../../relay/websocket-relay.ts";

export interface PendingRequest {
  /** Aborted when the session ends before the origin answered. */
  readonly signal: AbortSignal;
  /** The origin answered (or failed): stop tracking. */
  done(): void;
}

export class OpenConnections {
  readonly #webSockets = new Map<RelayedWebSocket, () => void>();
  readonly #streams = new Set<RelayedStream>();
  readonly #pending = new Set<AbortController>();
  #endedWith: EndSignal | undefined;
  /** Marks the object busy while a relay is open (activity.ts); returns the release. */
  readonly #pin: () => () => void;

  constructor(pin: () => () => void = () => () => {}) {
    this.#pin = pin;
  }

  get webSockets(): number {
    return this.#webSockets.size;
  }

  get streams(): number {
    return this.#streams.size;
  }

  /**
   * Whether anything of the session is open: a WebSocket, a stream, a request waiting for
   * the origin. The idle end asks this; legs relayed elsewhere must be counted here too.
   */
  hasOpenConnections(): boolean {
    return this.#webSockets.size > 0 || this.#streams.size > 0 || this.#pending.size > 0;
  }

  addWebSocket(ws: RelayedWebSocket): void {
    if (this.#endedWith !== undefined) endWebSocket(ws, this.#endedWith);
    else this.#webSockets.set(ws, this.#pin());
  }

  removeWebSocket(ws: RelayedWebSocket): void {
    this.#webSockets.get(ws)?.();
    this.#webSockets.delete(ws);
  }

  /**
   * A response on its way to the client. One whose body streams (no length: SSE, TLCP
   * streaming, chunked) is passed through a RelayedStream so it can be ended; others are
   * complete answers and end by themselves.
   */
  track(response: Response): Response {
    if (!isStreamingAnswer(response) || response.body === null) return response;
    const release = this.#pin();
    const stream = new RelayedStream(response.body, () => {
      release();
      this.#streams.delete(stream);
    });
    if (this.#endedWith !== undefined) stream.end(this.#endedWith.streamText);
    else this.#streams.add(stream);
    return new Response(stream.body, response);
  }

  /** A request about to wait for the origin's answer. */
  pending(): PendingRequest {
    const controller = new AbortController();
    if (this.#endedWith !== undefined) controller.abort();
    else this.#pending.add(controller);
    return { signal: controller.signal, done: () => this.#pending.delete(controller) };
  }

  /** Ends everything open with the protocol's signal; anything opened later ends at once. */
  endAll(signal: EndSignal): void {
    this.#endedWith = signal;
    for (const [ws, release] of [...this.#webSockets]) {
      endWebSocket(ws, signal);
      release();
    }
    this.#webSockets.clear();
    for (const stream of [...this.#streams]) stream.end(signal.streamText);
    for (const controller of [...this.#pending]) controller.abort();
    this.#pending.clear();
  }
}

function endWebSocket(ws: RelayedWebSocket, signal: EndSignal): void {
  ws.end(signal.webSocketMessage, signal.closeCode, signal.closeReason);
}
