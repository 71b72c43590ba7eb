/** What one chaos client counted: the columns of the chaos and soak tables. */
export interface ClientStats {
  sessions: number;
  events: number;
  lost: number;
  duplicated: number;
  /** Events or CR answers naming another origin than the session's. */
  misrouted: number;
  /** Streams that broke and were reattached to the same session, on the same origin. */
  resumed: number;
  /** Interruptions that ended with an explicit reconnect signal. */
  told: number;
  /** Which signals told it (e.g. "ws 1011", "sse end", "cr 502 origin_unreachable"). */
  toldBy: Record<string, number>;
  /** Interruptions where the client heard nothing and timed out. */
  hung: number;
  /** S requests that failed (503 + retry, refused, timed out): not sessions, so not losses. */
  createFailures: number;
  controlRequests: number;
  errors: string[];
}

export function emptyStats(): ClientStats {
  return { sessions: 0, events: 0, lost: 0, duplicated: 0, misrouted: 0, resumed: 0, told: 0, toldBy: {}, hung: 0, createFailures: 0, controlRequests: 0, errors: [] };
}
