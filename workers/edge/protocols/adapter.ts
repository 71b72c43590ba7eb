/**
 * Protocol knowledge sits behind this one interface: the router asks the adapter that
 * owns a request whether it is S or CR, where its token is, and how to speak to the client
 * in the protocol's own words. The router never switches on a protocol's name.
 *
 * The generic adapter (plain HTTP, HTTP streaming, WebSocket) owns every request no other
 * adapter claims. TLCP and Engine.IO adapters plug in beside it.
 */
import type { EdgeErrorCode } from "../errors.ts";

export type Classification =
  /** Session creation: balance it and mint a token. */
  | { readonly kind: "S" }
  /** Control/rebind of an existing session: verify the token and route to its session. */
  | { readonly kind: "CR"; readonly token: string; readonly carrier: string };

export interface DeliverContext {
  /** The client reached the edge over https (cookie may be Secure / SameSite=None). */
  readonly secure: boolean;
  readonly ttlSeconds: number;
}

export interface ProtocolAdapter {
  readonly name: string;
  /** Whether this adapter owns the request (normally by path). */
  matches(url: URL): boolean;
  classify(request: Request, url: URL): Classification | Promise<Classification>;
  /** The origin-side session id in an origin's S response, where the protocol has one. */
  originSessionId(response: Response): string | undefined;
  /** Hands a new session's token to the client in the protocol's way; returns the response to send. */
  deliverToken(response: Response, token: string, ctx: DeliverContext): Response;
  /**
   * Tells the client, in the protocol's own words, that its request failed for `code`
   * (bad token, session gone, origin lost...). For the generic protocol that is the JSON
   * error of DESIGN.md with `status`; other protocols may answer 200 with their own error.
   */
  failure(status: number, code: EdgeErrorCode, message: string, headers?: Record<string, string>): Response;
}

/** Names of the WebSocket upgrade in a request. */
export function isWebSocketUpgrade(request: Request): boolean {
  return request.headers.get("upgrade")?.toLowerCase() === "websocket";
}
