/**
 * The WebSocket message limit in the session's relays (workers/edge/limits.ts): a message
 * over it, from either side, ends that one relay with close 1009 and a reason on both
 * legs; every other session goes on. Checking costs one length read per message (text is
 * walked, not encoded, only when its UTF-16 length leaves doubt).
 */
import { CLOSE_MESSAGE_TOO_BIG, messageTooBig, messageTooBigReason } from "../../workers/edge/limits.ts";

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
