/**
 * The `tcp` counterpart of relayWebSocket(): the opening handshake on the raw connection
 * (checked: Sec-WebSocket-Accept, no unoffered extension or subprotocol), then messages
 * both ways between the client's WebSocket and our RFC 6455 client — text stays text,
 * binary stays binary, close codes and reasons cross, the same hooks run — through the
 * same pump (message-pump.ts), with our client as the origin's end.
 *
 * Pings are per hop here too: the origin's pings are answered by our client, the
 * client's by the runtime.
 */
import { originTarget, type RelayOutcome } from "../http-relay.ts";
import { clientEnd, openedResponse, type WebSocketRelayHooks } from "../websocket-relay.ts";
import { pumpMessages, type EndHandlers, type MessageEnd } from "../message-pump.ts";
import type { Connection } from "./tcp/connection.ts";
import type { OriginLink } from "./origin-link.ts";
import type { ProxySettings } from "./settings.ts";
import { exchange } from "./tcp/http1-client.ts";
import { requestHeadRefusal } from "./tcp/http1-refusal.ts";
import { TcpWebSocket } from "./tcp/websocket-client.ts";
import { handshakeHeaders, handshakeProblem, newHandshakeKey } from "./tcp/websocket-handshake.ts";
import { clientResponseHeaders, openTcpOrigin, tcpOriginHeaders } from "./tcp-origin-connection.ts";

/** The origin's 101 headers that belong to its hop's handshake, not the client's. */
const ORIGIN_HANDSHAKE_HEADERS = ["sec-websocket-accept", "sec-websocket-extensions", "sec-websocket-version"];

export async function relayWebSocketOverTcp(
  request: Request,
  link: OriginLink,
  proxy: ProxySettings,
  hooks: WebSocketRelayHooks,
): Promise<RelayOutcome> {
  const target = originTarget(request.url, link.url);
  const key = newHandshakeKey();
  const head = { method: "GET", target: `${target.pathname}${target.search}`, headers: handshakeHeaders(tcpOriginHeaders(request, target), key) };
  // A handshake that cannot be written as asked is the client's bad request, not a failed origin.
  const refused = requestHeadRefusal(head);
  if (refused !== undefined) return { ok: true, response: refused };
  try {
    const connection = await openTcpOrigin(request, link, proxy);
    const result = await exchange(connection, { ...head, body: null });
    // The origin refused the upgrade (404 unknown session, 503 blocked...): its answer is the client's.
    if (result.kind === "response") {
      const { head, body } = result;
      if (head.status > 599) {
        await body?.cancel();
        return { ok: false, reason: `origin answered status ${head.status}` };
      }
      return { ok: true, response: new Response(body, { status: head.status, statusText: head.statusText, headers: clientResponseHeaders(head.headers) }) };
    }
    const problem = await handshakeProblem(result.head, key, request.headers.get("sec-websocket-protocol"));
    if (problem !== undefined) {
      connection.close();
      return { ok: false, reason: problem };
    }
    const originEnd = tcpEnd(connection, hooks.maxMessageBytes);
    const client = clientEnd(hooks);
    const relay = pumpMessages(client.end, originEnd, hooks, client.backlog);
    hooks.onOpen?.(relay);
    const headers = clientResponseHeaders(result.head.headers, ORIGIN_HANDSHAKE_HEADERS);
    return { ok: true, response: openedResponse(client.webSocket, headers) };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * The tcp transport's RFC 6455 client as one end of the pump. It starts reading once the
 * pump listens, so no message arrives before there is somewhere to send it. It is the one
 * end whose reading can be paused: while the client's queue is over its budget the origin
 * is not read, and meets TCP back-pressure (queue-budget.ts).
 */
function tcpEnd(connection: Connection, maxMessageBytes: number | undefined): MessageEnd {
  let handlers: EndHandlers | undefined;
  const origin = new TcpWebSocket(
    connection,
    {
      onMessage: (data) => handlers?.message(data),
      onClose: (code, reason) => handlers?.close(code, reason),
    },
    maxMessageBytes === undefined ? {} : { maxMessageBytes },
  );
  return {
    send: (data) => origin.send(data),
    queuedBytes: () => origin.queuedBytes,
    pause: () => origin.pause(),
    resume: () => origin.resume(),
    close: (code, reason) => (code === undefined ? origin.close() : origin.close(code, reason ?? "")),
    listen(h) {
      handlers = h;
      origin.start();
    },
  };
}
