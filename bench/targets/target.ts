/**
 * A target is one way for a client to reach the reference origins: straight to them, or
 * through something in front (the push-edge edge; later HAProxy, nginx...). Each one is a
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
}

/** What the S request (`POST /session`) answered. */
export interface CreatedSession {
  readonly base: string;
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
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
