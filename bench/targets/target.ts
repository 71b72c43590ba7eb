/**
 * A target is one way for a client to reach the reference origins: straight to them, or
 * through something in front (the push-edge edge, HAProxy, nginx). Each one is a
 * column of the report. Scenarios only use this interface, so adding a peer means adding
 * one file here and one line in run.ts.
 */
import type { IncomingHttpHeaders } from "node:http";

export interface Target {
  /** Column title. */
  readonly name: string;
  /** The path a request takes, for the header above the table. */
  readonly path: string;
  /** HTTP base URL for the next S request (session creation, new WebSocket). */
  nextBase(): string;
  /**
   * How CR requests of a session reach its owner, given the S response: the base URL to
   * send them to and the headers that carry affinity (token, LB cookie...). Returns a
   * reason string when the response lacks what this target needs.
   */
  affinity(created: CreatedSession): Affinity | string;
  /** Headers an S request (and a new WebSocket) carries, e.g. the client cookie nginx hashes on. */
  createHeaders?(): Record<string, string>;
  /** The processes of the hop in front of the origins (workerd, haproxy, nginx), for memory per held session. */
  pids?(): number[];
  /** A platform floor (bench/floors/): measured for speed and memory, not for balancing. */
  readonly floor?: boolean;
  /** A base URL that balances by client address (HAProxy `balance source`, nginx `ip_hash`), for the NAT scenario. */
  readonly sourceBase?: string;
  /**
   * The same kind of hop, started in front of other origins (the restart scenario needs
   * origins of its own). Absent for `direct` (nothing balances) and `edge-tcp` (the same
   * balancer as `edge`): balance scenarios leave those columns empty.
   */
  inFrontOf?(origins: ReadonlyArray<{ id: string; url: string }>, options: HopOptions): Promise<Hop>;
}

export interface HopOptions {
  /** push-edge's pool settings (rebalancing, health); classic balancers have no such thing. */
  readonly poolSettings?: Record<string, unknown>;
  /** The hop's own log lines (workerd's output), shown with --verbose. */
  readonly log?: (line: string) => void;
}

export interface Hop {
  readonly target: Target;
  close(): Promise<void>;
}

/** What the S request (`POST /session`) answered. */
export interface CreatedSession {
  readonly base: string;
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** What the S request carried (from `createHeaders`). */
  readonly requestHeaders: Readonly<Record<string, string>>;
}

export interface Affinity {
  readonly base: string;
  readonly headers: Readonly<Record<string, string>>;
}

export function wsBase(httpBase: string): string {
  return httpBase.replace(/^http/, "ws");
}

export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
