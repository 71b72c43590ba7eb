/**
 * The local edge's MAX_OPEN_RELAYS, from the open-file limit workerd inherits from this
 * process: past that limit workerd cannot accept() and drops every connection it holds
 * (measured: docs/performance.md, idle-capacity), so the edge must refuse new sessions
 * with 503 well before it. A held session costs up to ~7 files locally (relay mode
 * `object`: client and origin sockets plus its awake object's SQLite files; mode `edge`
 * ~4), so 8 per relay, after a reserve for the runtime, the origins' checks and admin use.
 */
import { readFileSync } from "node:fs";

const FILES_PER_RELAY = 8;
const RESERVED_FILES = 1_000;

/** undefined when the limit is unknown or unlimited: the edge's own default then applies. */
export function localRelayLimit(limitsFile = "/proc/self/limits"): number | undefined {
  let text: string;
  try {
    text = readFileSync(limitsFile, "utf8");
  } catch {
    return undefined;
  }
  const match = /^Max open files\s+(\d+)/m.exec(text);
  if (match === null) return undefined;
  return Math.max(1, Math.floor((Number(match[1]) - RESERVED_FILES) / FILES_PER_RELAY));
}
