/**
 * The `tcp` counterpart of relayHttp(): PROXY header, HTTP/1.1 request with the body
 * streamed, response streamed back as it arrives. Same outcomes as the fetch path: an
 * origin that cannot be reached (or answers with something that is not HTTP) is
 * `ok: false`; any HTTP answer, error statuses included, is the client's.
 */
import { originTarget, uncompressedIfStreaming, type RelayOutcome } from "../http-relay.ts";
import type { OriginLink } from "./origin-link.ts";
import type { ProxySettings } from "./settings.ts";
import { exchange } from "./tcp/http1-client.ts";
import { requestHeadRefusal } from "./tcp/http1-refusal.ts";
import { clientResponseHeaders, openTcpOrigin, tcpOriginHeaders } from "./tcp-origin-connection.ts";

export async function relayHttpOverTcp(
  request: Request,
  link: OriginLink,
  proxy: ProxySettings,
  signal?: AbortSignal,
): Promise<RelayOutcome> {
  const target = originTarget(request.url, link.url);
  const requestHead = { method: request.method, target: `${target.pathname}${target.search}`, headers: tcpOriginHeaders(request, target) };
  // A head that cannot be written as asked is the client's bad request, not a failed origin.
  const refused = requestHeadRefusal(requestHead);
  if (refused !== undefined) return { ok: true, response: refused };
  try {
    const connection = await openTcpOrigin(request, link, proxy);
    // Abandoned before the origin answered: closing the connection fails the exchange.
    const abandon = (): void => connection.close();
    if (signal?.aborted === true) abandon();
    signal?.addEventListener("abort", abandon);
    const result = await exchange(connection, { ...requestHead, body: request.body }).finally(() => signal?.removeEventListener("abort", abandon));
    if (result.kind === "upgrade") {
      connection.close();
      return { ok: false, reason: "origin switched protocols on a plain request" };
    }
    const { head, length } = result;
    // A JS stream has no length of its own: FixedLengthStream keeps the origin's
    // Content-Length on the client's response (as fetch() would) and passes chunks on as
    // they come, with the same back-pressure.
    const body = length === undefined || result.body === null ? result.body : result.body.pipeThrough(new FixedLengthStream(length));
    // Response() only takes 200-599; anything else from an origin is not relayable HTTP.
    if (head.status < 200 || head.status > 599) {
      await body?.cancel();
      return { ok: false, reason: `origin answered status ${head.status}` };
    }
    const response = new Response(body, { status: head.status, statusText: head.statusText, headers: clientResponseHeaders(head.headers) });
    return { ok: true, response: uncompressedIfStreaming(response) };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}
