/**
 * The WebSocket message limit in the session's relays (config/limits.ts): a message
 * over it, from either side, ends that one relay with close 1009 and a reason on both
 * legs; every other session goes on. Checking costs one length read per message (text is
 * walked, not encoded, only when its UTF-16 length leaves doubt).
 */
import { CLOSE_MESSAGE_TOO_BIG, messageTooBig, messageTooBigReason } from "../config/limits.ts";

export { CLOSE_MESSAGE_TOO_BIG };

/** Whether `data` is over `maxBytes` (no limit when undefined). */
export function overMessageLimit(data: unknown, maxBytes: number | undefined): boolean {
  if (maxBytes === undefined) return false;
  if (typeof data === "string" || data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return messageTooBig(data, maxBytes);
  return false;
}

/** The close reason, naming which side sent the message. */
export function tooBigReason(side: "client" | "origin", maxBytes: number): string {
  return `${side} ${messageTooBigReason(maxBytes)}`;
}

/**
 * A message over the limit ends its relay: `report` hears it first, then both legs (the
 * client's WebSocket, the origin's — a runtime WebSocket or the tcp transport's client)
 * close with 1009 and a reason naming the side that sent it.
 */
export function endTooBig(
  side: "client" | "origin",
  report: (side: "client" | "origin", code: number, reason: string) => void,
  maxBytes: number,
  legs: ReadonlyArray<{ close(code: number, reason: string): void }>,
): void {
  const reason = tooBigReason(side, maxBytes);
  report(side, CLOSE_MESSAGE_TOO_BIG, reason);
  for (const leg of legs) {
    try {
      leg.close(CLOSE_MESSAGE_TOO_BIG, reason);
    } catch {
      // Already closing.
    }
  }
}
