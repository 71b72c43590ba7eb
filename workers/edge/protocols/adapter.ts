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
import type { EdgeErrorCode } from "../errors.ts";

export type Classification =
  /** Session creation: balance it and mint a token. */
  | { readonly kind: "S"; readonly body?: ArrayBuffer }
  /** Control/rebind of an existing session: verify the token and route to its session. */
  | { readonly kind: "CR"; readonly token: string; readonly carrier: string; readonly body?: ArrayBuffer };
// `body` is set when the adapter had to read the request body to classify it (a protocol
// that carries its session id in the body); the edge forwards that instead of the stream.

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

export interface CreatedResponse {
  readonly response: Response;
  readonly originSessionId: string | undefined;
}

export interface ProtocolAdapter {
  readonly name: string;
  /** Whether this adapter owns the request (normally by path). */
  matches(url: URL): boolean;
  classify(request: Request, url: URL): Classification | Promise<Classification>;

  // --- in the session object ---

  /**
   * The origin's answer to an S request, as the client must see it: where the protocol
   * names the session in its answer, the origin's id is swapped for the token. Also says
   * what the origin calls the session. Must not hold back more than the part it rewrites.
   */
  created(response: Response, token: string): CreatedResponse | Promise<CreatedResponse>;
  /** A CR request as the origin must see it (the token in it replaced by the origin's id). */
  toOrigin?(request: Request, ids: SessionIds): Request | Promise<Request>;
  /**
   * An origin → client WebSocket text message, rewritten where it names the session
   * (undefined: pass it unchanged). Asked of every message until it reports the origin's
   * session id, then no more.
   */
  originMessage?(data: string, ids: SessionIds): { data: string; originSessionId?: string } | undefined;
  /** A client → origin WebSocket text message, rewritten where it names the session. */
  clientMessage?(data: string, ids: SessionIds): string;

  // --- at the edge ---

  /** Hands a new session's token to the client in the protocol's way; returns the response to send. */
  deliverToken(response: Response, token: string, ctx: DeliverContext): Response;
  /**
   * Tells the client, in the protocol's own words, that its request failed for `code`
   * (bad token, session gone, origin lost...). For the generic protocol that is the JSON
   * error of DESIGN.md with `status`; other protocols may answer 200 with their own error.
   */
  failure(status: number, code: EdgeErrorCode, message: string, headers?: Record<string, string>): Response;
}

export function isWebSocketUpgrade(request: Request): boolean {
  return request.headers.get("upgrade")?.toLowerCase() === "websocket";
}
