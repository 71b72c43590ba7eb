// What reached this origin: a bounded ring for GET /_debug/requests (so tests can prove a
// request did, or did not, land here) and a hook the CLI turns into stdout JSON lines.

import type { ClientVia } from "./client-address.ts";
import type { ListenerKind } from "./options.ts";

export type RequestLogEntry = {
  /** Wall-clock ms when the response head (or WebSocket 101) was sent. */
  ts: number;
  method: string;
  /** Path without the query string (which may carry an affinity token). */
  path: string;
  status: number;
  listener: ListenerKind;
  client: string;
  via: ClientVia;
  /** The TCP peer, i.e. the proxy or edge when there is one. */
  peer: string;
  session?: string;
  /** Present when a trusted PROXY header was honoured on this connection. */
  proxy?: { version: 1 | 2; command: "proxy" | "local"; uniqueId?: string; tlvTypes: number[]; authKid?: string };
  websocket?: true;
};

/** Requests that would drown the log (health polls) or describe the log itself. */
export function isLoggedPath(path: string): boolean {
  return path !== "/health" && path !== "/_debug/requests";
}

export class RequestLog {
  readonly #capacity: number;
  readonly #entries: RequestLogEntry[] = [];
  readonly #onEntry: ((entry: RequestLogEntry) => void) | undefined;

  constructor(capacity: number, onEntry?: (entry: RequestLogEntry) => void) {
    this.#capacity = capacity;
    this.#onEntry = onEntry;
  }

  record(entry: RequestLogEntry): void {
    if (!isLoggedPath(entry.path)) return;
    this.#entries.push(entry);
    // Ring semantics without a ring: shifting 1 of ~1000 items is cheap next to a request.
    if (this.#entries.length > this.#capacity) this.#entries.shift();
    try {
      this.#onEntry?.(entry);
    } catch (error) {
      // A broken log sink (closed stdout pipe) must not take a request down with it.
      console.error("request log sink failed:", error);
    }
  }

  entries(): RequestLogEntry[] {
    return this.#entries.slice();
  }
}
