/**
 * The human sentence that goes with a session's end, where the protocol has room for one
 * (TLCP's END message, a WebSocket close reason). Short: a close reason holds 123 bytes.
 */
import type { EndReason } from "../protocols/adapter.ts";

const WHY: Record<EndReason, string> = {
  drain: "its server is being drained",
  rebalance: "sessions are being rebalanced",
  expired: "maximum session duration reached",
  admin: "ended by an operator",
  origin_restarted: "its server restarted and lost it",
  idle: "it had no connection and no request for too long",
};

export function endMessage(reason: EndReason, detail?: string): string {
  const why = detail === undefined || detail === "" || detail === WHY[reason] ? WHY[reason] : `${WHY[reason]}: ${detail}`;
  return `session ended, ${why}; open a new one`;
}
