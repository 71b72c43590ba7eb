/**
 * The WebSocket queue budget of a relay (config/limits.ts `webSocketQueueBytes`, issue 16
 * F5): how many bytes the edge may hold for one side that is not taking what it is sent.
 * A runtime WebSocket's send() never blocks and never fails while its peer reads nothing;
 * each message waits in the runtime's outgoing queue, in this process's memory, for as long
 * as the peer keeps its connection. `bufferedAmount` says how much waits there; the tcp
 * transport's client counts the bytes its socket has not taken yet.
 *
 * After each message the pump forwards, the side it went to is checked. Over the budget:
 * - if the side the message came from can stop reading its connection (the tcp transport's
 *   origin), it is paused until the queue is down to half the budget — the origin meets TCP
 *   back-pressure, as behind any proxy, and nothing is lost;
 * - otherwise (a runtime WebSocket, whose reading cannot be paused) the relay ends with
 *   1013 on both legs, before the queue can grow further.
 *
 * What it cannot do: free what is already queued toward a runtime WebSocket. close() is
 * queued behind it, so up to the budget (plus the message that crossed it) stays held
 * until that peer reads or its connection ends.
 */
/** How often a paused source looks whether its peer has caught up (the runtime has no "drain" event). */
export const RESUME_POLL_MS = 50;

/** What the budget needs of each end (message-pump.ts MessageEnd). */
export interface QueuedEnd {
  /** Bytes sent to this end that its connection has not taken yet. */
  queuedBytes(): number;
  /** Stop and restart delivering messages; only an end that can stop reading its connection has them. */
  pause?(): void;
  resume?(): void;
}

export interface QueueWatch {
  /** Called after each message forwarded to the watched side. */
  afterSend(): void;
  /** The relay ended: no more polling, and a paused source is let go. */
  stop(): void;
}

/**
 * Watches the queue toward `target` (messages from `source`). `overflow` ends the relay;
 * it is called at most once, with the close reason.
 */
export function watchQueue(
  targetSide: "client" | "origin",
  source: QueuedEnd,
  target: QueuedEnd,
  maxBytes: number,
  overflow: (reason: string) => void,
): QueueWatch {
  let paused = false;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const poll = (): void => {
    timer = setTimeout(function resumeWhenDrained() {
      if (stopped) return;
      if (target.queuedBytes() > maxBytes / 2) return poll();
      paused = false;
      source.resume?.();
    }, RESUME_POLL_MS);
  };
  return {
    afterSend() {
      if (paused || stopped || target.queuedBytes() <= maxBytes) return;
      if (source.pause !== undefined && source.resume !== undefined) {
        paused = true;
        source.pause();
        poll();
        return;
      }
      stopped = true;
      overflow(queueFullReason(targetSide, maxBytes));
    },
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      if (paused) {
        paused = false;
        source.resume?.();
      }
    },
  };
}

/** The close reason, naming the side that does not read (fits the 123-byte close reason). */
export function queueFullReason(side: "client" | "origin", maxBytes: number): string {
  return `${side} is not reading: over ${maxBytes} bytes queued for it`;
}

/** A runtime WebSocket's queue: `bufferedAmount` (0 where the runtime does not say). */
export function bufferedAmountOf(ws: WebSocket): number {
  try {
    const amount: unknown = ws.bufferedAmount;
    return typeof amount === "number" ? amount : 0;
  } catch {
    return 0;
  }
}
