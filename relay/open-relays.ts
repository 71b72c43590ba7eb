/**
 * How many long-lived relays (WebSocket pumps and relayed streams) this isolate holds
 * right now, in either relay mode. Module state on purpose: it is the isolate's own count —
 * the Worker's legs in relay mode `edge`, and (in local workerd, where the session objects
 * share the Worker's isolate) the objects' legs too. The S path refuses new sessions past
 * the edge's `MAX_OPEN_RELAYS` (workers/edge/routes/create-session.ts), so a flood of idle
 * sessions meets a 503 with Retry-After rather than the runtime's memory or file limit.
 */

let open = 0;

export function openRelays(): number {
  return open;
}

/** Counts one relay as open; the returned function counts it closed (once, however often called). */
export function relayOpened(): () => void {
  open++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    open--;
  };
}
