/**
 * The edge's admin API (`/_edge/admin/`, README "Edge endpoints") as the CLI uses it.
 * Every failure becomes a CliError carrying the edge's own message: unreachable or a
 * refused admin token exit 3, anything else the edge refused exits 1.
 */
import { CliError, EXIT } from "./errors.ts";
import type { Connection } from "./connection.ts";

/** One admin request never waits longer than this (a drain polls many short requests). */
const REQUEST_TIMEOUT_MS = 10_000;

export interface OriginView {
  readonly id: string;
  readonly url: string;
  readonly weight: number;
  readonly transport: string;
  readonly state: string;
  readonly drain: { readonly rate: number; readonly ended: number; readonly remaining: number } | null;
  readonly healthy: boolean;
  readonly reportedState: string;
  readonly sessions: number;
  /** The origin's own count of its sessions; null (or absent, from an older edge) when it reports none. */
  readonly reportedSessions?: number | null;
  readonly capacity: number;
  readonly load: number;
  readonly checkedAt: number;
  /** Why the origin is (or last was) down. */
  readonly lastError: string | null;
  /** "check" (an active health check) or "traffic" (real requests failed there). */
  readonly errorSource?: string | null;
  /** The health check it gets, in words. */
  readonly check?: string;
}

export interface PoolView {
  readonly name: string;
  readonly hosts: readonly string[];
  readonly rebalanced: number;
  /** The pool's settings as the edge applies them (the CLI reads the health interval). */
  readonly settings?: { readonly health?: { readonly intervalMs?: number } };
  readonly origins: readonly OriginView[];
}

export interface SessionEventView {
  readonly seq: number;
  readonly at: number;
  readonly kind: string;
  readonly detail: Record<string, string | number | boolean | null>;
}

export interface SessionView {
  readonly session: Record<string, unknown> & { readonly sk: string; readonly state: string; readonly originId: string };
  readonly openWebSockets: number;
  readonly events: readonly SessionEventView[];
}

export type InspectView = {
  readonly pool: string | null;
  readonly header: Record<string, unknown> | null;
  readonly claims: Record<string, unknown> | null;
} & (
  | { readonly verified: true; readonly kid: string; readonly session: string; readonly origin: string; readonly expiresIn: number }
  | { readonly verified: false; readonly reason: string; readonly detail: string }
);

export class AdminClient {
  readonly #connection: Connection;
  readonly #interrupt: AbortSignal;

  /** `interrupt` (Ctrl-C) cuts a request short: exit 130 rather than waiting for the edge. */
  constructor(connection: Connection, interrupt: AbortSignal) {
    this.#connection = connection;
    this.#interrupt = interrupt;
  }

  get url(): string {
    return this.#connection.url;
  }

  pools(): Promise<{ pools: PoolView[] }> {
    return this.#request("GET", "/pool");
  }

  setOriginState(pool: string, origin: string, state: "active" | "drain" | "block" | "maintenance", rate?: number): Promise<PoolView> {
    return this.#request("POST", `/pools/${enc(pool)}/origins/${enc(origin)}/state`, { state, ...(rate === undefined ? {} : { rate }) });
  }

  session(sk: string): Promise<SessionView> {
    return this.#request("GET", `/sessions/${enc(sk)}`);
  }

  /** Live sessions an origin knows by its own session id (e.g. a Lightstreamer session id from its log). */
  sessionsByOriginId(originSessionId: string): Promise<{ sessions: Array<{ sk: string; pool: string; origin: string }> }> {
    return this.#request("GET", `/sessions?origin_session_id=${enc(originSessionId)}`);
  }

  inspectToken(token: string, pool: string | undefined): Promise<InspectView> {
    return this.#request("POST", "/tokens/inspect", { token, ...(pool === undefined ? {} : { pool }) });
  }

  async #request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.#connection.url}/_edge/admin${path}`;
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.#connection.token !== undefined) headers.authorization = `Bearer ${this.#connection.token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.any([this.#interrupt, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
      });
    } catch (err) {
      if (this.#interrupt.aborted) throw new CliError(EXIT.interrupted, "interrupted", "interrupted");
      throw new CliError(EXIT.unreachable, "unreachable", `could not reach the edge at ${this.#connection.url}: ${reason(err)}`);
    }
    const text = await res.text();
    const json = parse(text);
    if (res.ok) {
      if (json === undefined) throw new CliError(EXIT.failed, "bad_response", `the edge answered ${method} ${path} with something that is not JSON`);
      return json as T;
    }
    const edgeError = json as { error?: unknown; message?: unknown } | undefined;
    const code = typeof edgeError?.error === "string" ? edgeError.error : `http_${res.status}`;
    const message = typeof edgeError?.message === "string" ? edgeError.message : `HTTP ${res.status} ${res.statusText}`;
    if (res.status === 401) {
      const hint = this.#connection.token === undefined ? "no admin token given: pass --token or set PUSH_EDGE_ADMIN_TOKEN" : "check --token / PUSH_EDGE_ADMIN_TOKEN";
      throw new CliError(EXIT.unreachable, code, `the edge refused the admin token: ${message} (${hint})`);
    }
    if (res.status === 403) {
      // The admin API answers only on admin hosts (ADMIN_HOSTS), never on a pool's public host.
      throw new CliError(EXIT.unreachable, code, `the edge refused admin access: ${message} (point --url at an admin host)`);
    }
    throw new CliError(EXIT.failed, code, message);
  }
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function reason(err: unknown): string {
  if (err instanceof Error && err.name === "TimeoutError") return `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  const cause = err instanceof Error ? (err.cause as { code?: string; message?: string } | undefined) : undefined;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}
