// Per-request facts computed once by the dispatcher: which listener, which client (and
// how we know), the parsed URL, the headers every response carries, and a log() that
// records the request when its status is known.

import type { IncomingMessage } from "node:http";
import { resolveClientAddress, type ClientAddress } from "./client-address.ts";
import type { ResolvedListener } from "./options.ts";
import type { ConnectionInfo } from "./proxy-listener.ts";
import { proxyUniqueId, type ProxyHeader } from "./proxy-protocol.ts";
import type { RequestLogEntry } from "./request-log.ts";
import { matchRoute, type Route } from "./routes.ts";
import type { OriginRuntime } from "./runtime.ts";

export type RequestContext = {
  runtime: OriginRuntime;
  listener: ResolvedListener;
  connection: ConnectionInfo;
  client: ClientAddress;
  method: string;
  path: string;
  query: URLSearchParams;
  /** Undefined when no endpoint has this path. */
  route: Route | undefined;
  /** Headers every response carries (X-Origin-Id). */
  baseHeaders: Record<string, string>;
  /** The `sk` of the verified push-edge token (with --jwks-url), once checked. */
  edgeSessionKey?: string;
  /** Records the request once; later calls are ignored. */
  log(status: number, extra?: { session?: string; websocket?: true }): void;
};

/** Undefined when the socket did not come through one of our listeners (cannot happen). */
export function createRequestContext(runtime: OriginRuntime, req: IncomingMessage): RequestContext | undefined {
  const connection = runtime.connections.get(req.socket);
  if (connection === undefined) return undefined;
  // Only the path and query matter; the base is a placeholder for URL parsing.
  const url = new URL(req.url ?? "/", "http://origin.invalid");
  const client = resolveClientAddress(connection, req.headers, runtime.options.forwardedTrusted);
  const method = req.method ?? "GET";
  const route = matchRoute(url.pathname);
  let logged = false;
  return {
    runtime,
    listener: connection.listener,
    connection,
    client,
    method,
    path: url.pathname,
    query: url.searchParams,
    route,
    baseHeaders: { "X-Origin-Id": runtime.id },
    log(status, extra = {}) {
      if (logged) return;
      logged = true;
      // A CR request names its session in the path even when it is unknown here (404):
      // log it, so a test can tell which session's request reached which origin.
      const session = extra.session ?? route?.sessionId;
      const entry: RequestLogEntry = {
        ts: Date.now(),
        method,
        path: url.pathname,
        status,
        listener: connection.listener.kind,
        client: client.client,
        via: client.via,
        peer: connection.peer,
        ...(session === undefined ? {} : { session }),
        ...(connection.proxy === null ? {} : { proxy: proxySummary(connection.proxy, connection.proxyAuthKid) }),
        ...(extra.websocket === undefined ? {} : { websocket: extra.websocket }),
      };
      runtime.requestLog.record(entry);
    },
  };
}

function proxySummary(header: ProxyHeader, authKid: string | null): NonNullable<RequestLogEntry["proxy"]> {
  const uniqueId = proxyUniqueId(header);
  return {
    version: header.version,
    command: header.command,
    ...(uniqueId === undefined ? {} : { uniqueId }),
    tlvTypes: header.tlvs.map((tlv) => tlv.type),
    ...(authKid === null ? {} : { authKid }),
  };
}
