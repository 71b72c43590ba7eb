/**
 * Relays one HTTP request of a session to its origin with streamed bodies both ways:
 * the request body is handed to fetch() as a stream and the origin's response body is
 * returned as the same stream, so each chunk the origin writes reaches the client as soon
 * as it is written, and a slow client's back-pressure reaches the origin through the
 * stream instead of piling up here.
 */
import type { OriginLink } from "./transport/origin-link.ts";
import { originTransport } from "./transport/origin-transport.ts";
import { originAnswer } from "../protocols/origin-response.ts";

export type RelayOutcome =
  | { readonly ok: true; readonly response: Response }
  | { readonly ok: false; readonly reason: string };

/** The origin URL for a request: same path and query, origin's scheme, host and port. */
export function originTarget(requestUrl: string, originUrl: string): URL {
  const incoming = new URL(requestUrl);
  const target = new URL(originUrl);
  target.pathname = incoming.pathname;
  target.search = incoming.search;
  return target;
}

/**
 * Headers for the origin: the client's request headers as the edge passed them on. (The
 * edge's internal route header never gets here: the session object takes it off first.)
 */
export function originHeaders(request: Request): Headers {
  return new Headers(request.headers);
}

/**
 * Relays over the origin's transport (fetch() below, or a PROXY-protocol TCP connection).
 * `signal` abandons a request still waiting for the origin's answer (the session ended
 * meanwhile; an Engine.IO long-poll may wait for tens of seconds).
 */
export function relayHttp(request: Request, link: OriginLink, signal?: AbortSignal): Promise<RelayOutcome> {
  return originTransport(link.transport).exchange(request, link, signal).then(originAnswer);
}

/** The `fetch` transport's exchange (transport/origin-transport.ts). */
export async function relayHttpOverFetch(request: Request, link: OriginLink, signal?: AbortSignal): Promise<RelayOutcome> {
  const target = originTarget(request.url, link.url);
  try {
    const response = await fetch(target, {
      method: request.method,
      headers: originHeaders(request),
      body: request.body,
      // A redirect from the origin is the client's to follow, not ours.
      redirect: "manual",
      ...(signal === undefined ? {} : { signal }),
    });
    return { ok: true, response: uncompressedIfStreaming(response) };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Whether an answer's body streams (no length: SSE, TLCP streaming, chunked) and must be
 * endable. The length is asked first: reading `body` makes the runtime wrap the body in a
 * JavaScript stream object, which an answer of known length — nearly every CR's — never needs.
 */
export function isStreamingAnswer(response: Response): boolean {
  return response.status !== 101 && !response.headers.has("content-length") && response.body !== null;
}

/**
 * Cloudflare's front line gzips text responses for clients that accept it, and a gzip
 * encoder holds small chunks back until it has a block's worth — which turns a stream of
 * small events into one late burst. A response without a length is a stream: it is marked
 * `Content-Encoding: identity`, which the front line leaves alone. Responses of known length
 * are complete anyway and may still be compressed.
 */
export function uncompressedIfStreaming(response: Response): Response {
  if (!isStreamingAnswer(response) || response.headers.has("content-encoding")) return response;
  const out = new Response(response.body, response);
  out.headers.set("content-encoding", "identity");
  return out;
}
