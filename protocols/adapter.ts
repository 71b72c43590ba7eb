/**
 * Protocol knowledge sits behind this one interface: the router asks the adapter that
 * owns a request whether it is S or CR, where its token is, and how to speak to the client
 * in the protocol's own words; the session object asks it how to translate between the
 * client's view of the session (its id is the affinity token) and the origin's (the
 * origin's own session id). The router never switches on a protocol's name.
 *
 * The generic adapter (plain HTTP, HTTP streaming, WebSocket) owns every request no other
 * adapter claims; TLCP and Engine.IO adapters sit beside it.
 */
import type { EdgeErrorCode } from "./errors.ts";
import type { Limits } from "../config/limits.ts";
import type { SessionStart } from "../config/session-start.ts";

/** Answers a failed request in the protocol's words (see ProtocolAdapter.failure). */
export type Failure = (status: number, code: EdgeErrorCode, message: string, headers?: Record<string, string>) => Response;

/**
 * `body` is set when the adapter had to read the request body to classify it (a protocol
 * that carries its session id in the body); the edge forwards that instead of the stream.
 * `failure` answers failures of this very request, where the protocol's words depend on
 * it (one error line per request line, say); the adapter's `failure` otherwise.
 */
export type Classification =
  /** Session creation: balance it and mint a token. */
  | { readonly kind: "S"; readonly body?: ArrayBuffer; readonly failure?: Failure }
  /** Control/rebind of an existing session: verify the token and route to its session. */
  | {
      readonly kind: "CR";
      readonly token: string;
      readonly carrier: string;
      readonly body?: ArrayBuffer;
      readonly failure?: Failure;
      /**
       * The origin may hold this request's answer open — a `stream` (SSE, a streaming TLCP
       * bind) or a `poll` (an Engine.IO or TLCP long-poll, answered whole) — so in relay
       * mode `edge` the edge fetches it itself, after the session object admitted it: the
       * object is not kept awake by it. Only for requests without a body or whose body the
       * adapter read (`body`).
       */
      readonly longLived?: LongLived;
    }
  /**
   * A WebSocket whose first message says whether it creates or rebinds a session: the edge
   * accepts it and asks `classifyMessage` (TLCP).
   */
  | { readonly kind: "first-message" }
  /** Refused before it became S or CR (over a protocol-line limit, say): this is the answer. */
  | { readonly kind: "refused"; readonly response: Response }
  /**
   * No token, and not a request that opens a session in this protocol (a favicon, a CORS
   * preflight, a scanner's guess): no session object is created for it. The pool relays it
   * statelessly or refuses it (config/session-start.ts `unmatched`).
   */
  | { readonly kind: "no-session" };

/**
 * A request the origin holds open: a `poll` comes back whole and is not worth an entry in
 * the session's event log each time (an Engine.IO client sends one every 25 s); a
 * `stream` is.
 */
export type LongLived = "stream" | "poll";

/** What a WebSocket's opening message means (see `classifyMessage`). */
export type MessageClassification =
  /** A preliminary message the edge answers itself (TLCP `wsok`), then waits for the next. */
  | { readonly kind: "reply"; readonly reply: string }
  | { readonly kind: "S" }
  | { readonly kind: "CR"; readonly token: string }
  /** Not a valid opening: answer this and close. */
  | { readonly kind: "refuse"; readonly reply: string };

export interface DeliverContext {
  /** The client reached the edge over https (cookie may be Secure / SameSite=None). */
  readonly secure: boolean;
  readonly ttlSeconds: number;
}

/** What the session object knows when it translates for the origin. */
export interface SessionIds {
  /** The client's name for the session: its affinity token. */
  readonly token: string;
  /** The origin's name for it, once known. */
  readonly originSessionId: string | null;
}

/** Why the edge ends a session on purpose (the session record and event log keep it). */
export const END_REASONS = ["drain", "rebalance", "expired", "admin", "origin_restarted", "idle"] as const;
export type EndReason = (typeof END_REASONS)[number];

export function isEndReason(value: unknown): value is EndReason {
  return typeof value === "string" && (END_REASONS as readonly string[]).includes(value);
}

/**
 * How a protocol tells a session's open connections that the session is over and the
 * client should open a new one: what goes on each WebSocket before it closes, what is
 * appended to each open HTTP stream before it ends, and the WebSocket close.
 */
export interface EndSignal {
  readonly webSocketMessage?: string;
  readonly streamText?: string;
  readonly closeCode: number;
  readonly closeReason: string;
}

export interface CreatedResponse {
  readonly response: Response;
  readonly originSessionId: string | undefined;
}

export interface ProtocolAdapter {
  readonly name: string;
  /** Whether this adapter owns the request (normally by path). */
  matches(url: URL): boolean;
  /**
   * S, CR, or no session at all: S only for what the protocol itself calls session
   * creation. `limits`: the pool's input limits, for adapters that read the request to
   * classify it. `sessionStart`: the pool's rules for protocols whose session-creating
   * requests are the operator's to name (the generic protocol).
   */
  classify(request: Request, url: URL, limits?: Limits, sessionStart?: SessionStart): Classification | Promise<Classification>;

  // --- in the session object ---

  /**
   * The origin's answer to an S request, as the client must see it: where the protocol
   * names the session in its answer, the origin's id is swapped for the token. Also says
   * what the origin calls the session. Must not hold back more than the part it rewrites.
   */
  created(response: Response, token: string): CreatedResponse | Promise<CreatedResponse>;
  /** A CR answer as the client must see it, where it names the session (TLCP rebinds). */
  relayed?(response: Response, ids: SessionIds): Response | Promise<Response>;
  /**
   * `relayed` for a streamed answer, split so the edge can pipe the rest natively
   * (relay/endable-pipe.ts): the part the protocol rewrites and the untouched rest (null
   * when the head was all of it). Adapters with `relayed` and without this have their
   * streams passed through `relayed`, in JavaScript.
   */
  relayedStream?(body: ReadableStream<Uint8Array>, ids: SessionIds): Promise<{ head: Uint8Array; rest: ReadableStream<Uint8Array> | null }>;
  /** A CR request as the origin must see it (the token in it replaced by the origin's id). */
  toOrigin?(request: Request, ids: SessionIds): Request | Promise<Request>;
  /**
   * An origin → client WebSocket text message, rewritten where it names the session
   * (undefined: pass it unchanged), with the origin's session id where the message names
   * it. Asked of every message, so it must be cheap for the messages it does not touch.
   */
  originMessage?(data: string, ids: SessionIds): { data: string; originSessionId?: string } | undefined;
  /** A client → origin WebSocket text message, rewritten where it names the session. */
  clientMessage?(data: string, ids: SessionIds): string;
  /**
   * The edge ends the session on purpose (drain, rebalance, expiry, operator): what makes
   * this protocol's real clients open a new session by themselves. `message` is a human
   * sentence to carry where the protocol has room for one. Requests that later name the
   * session get `failure(404, "session_not_found", ...)`.
   */
  endSignal(reason: EndReason, message: string): EndSignal;

  // --- at the edge ---

  /** For `first-message` WebSockets: what the client's opening message means. */
  classifyMessage?(data: string): MessageClassification;
  /** For `first-message` WebSockets: a failure in the protocol's words, as a message. */
  messageFailure?(code: EdgeErrorCode, message: string): string;

  /** Hands a new session's token to the client in the protocol's way; returns the response to send. */
  deliverToken(response: Response, token: string, ctx: DeliverContext): Response;
  /**
   * Tells the client, in the protocol's own words, that its request failed for `code`
   * (bad token, session gone, origin lost...). For the generic protocol that is the JSON
   * error of docs/architecture.md with `status`; other protocols may answer 200 with their own error.
   */
  failure: Failure;
}

export function isWebSocketUpgrade(request: Request): boolean {
  return request.headers.get("upgrade")?.toLowerCase() === "websocket";
}
